/// How long a tenant keeps its events (SPEC §11): rules by resource type (`*` for any) and, optionally, category.
/// An event is kept forever unless a rule matches it; when several match, the most specific decides: type and
/// category, then type alone, then `*` with the category, then `*` alone.
public struct RetentionRule: Sendable, Equatable {
    /// A resource type, or `*` for events of any type (and events about no resource).
    public var resourceType: String
    /// Only events of this category; nil for any.
    public var category: String?
    /// Days an event is kept after its `recorded_at` (Trail's clock); fractional days allowed.
    public var keepDays: Double

    public static let anyType = "*"
    /// The longest a rule may keep events: a hundred years (longer is forever: no rule).
    public static let maximumDays = 36_525.0
    /// The longest resource type or category a rule may name (as events do).
    public static let maximumNameLength = 200

    public init(resourceType: String, category: String? = nil, keepDays: Double) {
        self.resourceType = resourceType
        self.category = category
        self.keepDays = keepDays
    }

    /// How long an event under this rule is kept.
    public var keep: Duration { .microseconds(Int64((keepDays * 86_400_000_000).rounded(.up))) }

    /// How specific the rule is for an event it matches (higher wins); nil when it does not match.
    func specificity(resourceType: String?, category: String?) -> Int? {
        let typeMatches = self.resourceType == Self.anyType ? 0 : (self.resourceType == resourceType ? 2 : nil)
        let categoryMatches = self.category == nil ? 0 : (self.category == category ? 1 : nil)
        guard let typeMatches, let categoryMatches else { return nil }
        return typeMatches + categoryMatches
    }
}

public struct RetentionPolicy: Sendable, Equatable {
    public static let maximumRules = 100

    public var rules: [RetentionRule]

    public init(rules: [RetentionRule] = []) {
        self.rules = rules
    }

    /// The index of the rule that decides how long an event of this type and category is kept, or nil (kept
    /// forever).
    public func rule(resourceType: String?, category: String?) -> Int? {
        var best: (index: Int, specificity: Int)?
        for (index, rule) in rules.enumerated() {
            guard let specificity = rule.specificity(resourceType: resourceType, category: category) else { continue }
            if best == nil || specificity > best!.specificity { best = (index, specificity) }
        }
        return best?.index
    }

    /// The shortest time any rule keeps an event: nothing younger can be removed.
    public var shortestKeep: Duration? { rules.map(\.keep).min() }

    /// `{"rules": [{"resource_type", "category"?, "keep_days"}]}`, checked: known fields only, each rule a
    /// resource type and a positive number of days at least `minimumDays`, no two rules for the same type and
    /// category. Every fault is listed with its path.
    public static func parse(_ value: JSONValue, minimumDays: Double = 0) throws(InvalidSubmission) -> RetentionPolicy {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: path, message: message)) }
        guard let object = value.objectValue else {
            throw InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object {\"rules\": [...]}")])
        }
        for key in object.keys where key != "rules" { fault(key, "unknown field; the body is {\"rules\": [...]}") }
        guard let list = object["rules"]?.arrayValue else {
            fault("rules", "required: an array of rules (empty to keep everything forever)")
            throw InvalidSubmission(errors: errors)
        }
        if list.count > maximumRules { fault("rules", "at most \(maximumRules) rules") }
        var rules: [RetentionRule] = []
        var seen: Set<String> = []
        for (i, item) in list.enumerated() {
            let path = "rules[\(i)]"
            guard let rule = item.objectValue else {
                fault(path, "expected an object with resource_type, keep_days and optionally category")
                continue
            }
            for key in rule.keys where !["resource_type", "category", "keep_days"].contains(key) {
                fault("\(path).\(key)", "unknown field; a rule has resource_type, category and keep_days")
            }
            let type = rule["resource_type"]?.stringValue
            if type == nil || type!.isEmpty || type!.codePoints > RetentionRule.maximumNameLength {
                fault("\(path).resource_type", "required: a resource type of 1 to \(RetentionRule.maximumNameLength) characters, or \"*\" for any")
            }
            var category: String?
            switch rule["category"] {
            case nil, .null?: break
            case .string(let given)? where !given.isEmpty && given.codePoints <= RetentionRule.maximumNameLength: category = given
            default: fault("\(path).category", "a category of 1 to \(RetentionRule.maximumNameLength) characters, or null for any")
            }
            var days: Double?
            if case .number(let number)? = rule["keep_days"], let value = Double(number.literal), value.isFinite {
                days = value
            }
            if let value = days, value <= 0 || value < minimumDays || value > RetentionRule.maximumDays {
                fault("\(path).keep_days", value > RetentionRule.maximumDays
                      ? "at most \(Int(RetentionRule.maximumDays)) days (to keep events forever, give them no rule)"
                      : minimumDays > 0 ? "at least \(minimumDays) days (this installation's --min-retention-days)"
                      : "a positive number of days")
                days = nil
            } else if days == nil {
                fault("\(path).keep_days", "required: a positive number of days (fractions allowed)")
            }
            guard let type, let days else { continue }
            if !seen.insert(type + "\u{0}" + (category ?? "")).inserted {
                fault(path, "a second rule for resource type \(type) and \(category.map { "category \($0)" } ?? "any category")")
            }
            rules.append(RetentionRule(resourceType: type, category: category, keepDays: days))
        }
        guard errors.isEmpty else { throw InvalidSubmission(errors: errors) }
        return RetentionPolicy(rules: rules)
    }

    /// The rules as `PUT` takes them and `GET` returns them.
    public var json: JSONValue {
        .object(JSONObject([.init(key: "rules", value: .array(rules.map { rule in
            var object = JSONObject()
            object.append("resource_type", .string(rule.resourceType))
            object.append("category", rule.category.map(JSONValue.string) ?? .null)
            object.append("keep_days", .number(JSONNumber(literal: RetentionPolicy.format(rule.keepDays))!))
            return .object(object)
        }))]))
    }

    /// Days as JSON writes them: whole days without a fraction.
    public static func format(_ days: Double) -> String {
        days == days.rounded() && abs(days) < 1e15 ? String(Int64(days)) : "\(days)"
    }
}
