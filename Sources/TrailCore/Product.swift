/// What Trail calls itself where it names its product: OCSF records, CEF headers, webhook user agents. The version is
/// the API's, as the OpenAPI document gives it (`info.version`; a test keeps the two the same).
public enum Product {
    public static let name = "Trail"
    public static let version = "2.0.0"
}
