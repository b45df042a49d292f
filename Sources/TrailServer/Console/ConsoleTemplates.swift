/// The console's pages as Mustache templates (swift-mustache, HTML escaping: every `{{value}}` is escaped;
/// `{{{…}}}` holds only HTML Trail built itself: a page's main part, a chart). Kept in the binary, like the
/// assets, so that `trail serve` needs no files beside it.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "layout": layout, "signIn": signIn, "eventTable": eventTable, "events": events, "event": event, "proof": proof,
        "resource": resource, "actor": actor, "summary": summary, "integrity": integrity, "verified": verified,
        "tail": tail, "error": error, "keys": keys, "data": data,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{title}} · Trail</title>
        <link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/ui/assets/console.css">
        <script src="/ui/assets/console.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
        <a class="brand" href="/ui/events">Trail</a>
        {{#signedIn}}
        <nav aria-label="Console">
        {{#nav}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/nav}}
        </nav>
        <div class="who">
        <span title="tenant and role">{{tenant}} · {{roles}}</span>
        {{#canSignOut}}<form method="post" action="/ui/sign-out"><input type="hidden" name="csrf" value="{{formToken}}"><button type="submit">Sign out</button></form>{{/canSignOut}}
        </div>
        {{/signedIn}}
        </header>
        <main id="main">
        {{{main}}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        <section class="sign-in">
        <h1>Sign in</h1>
        <p>Sign in with an API key of your tenant (or a JWT your identity provider issued). The key is checked once and not kept in your browser: a session cookie stands for it.</p>
        {{#message}}<p class="alert" role="alert">{{message}}</p>{{/message}}
        <form method="post" action="/ui/sign-in">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        <label for="key">API key or token</label>
        <input id="key" name="key" type="password" autocomplete="off" required autofocus spellcheck="false">
        <button type="submit">Sign in</button>
        </form>
        </section>
        """

    static let eventTable = """
        {{#hasEvents}}
        <div class="scroll">
        <table class="events">
        <thead><tr><th scope="col">Recorded (UTC)</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Resource</th><th scope="col">Summary</th></tr></thead>
        <tbody>
        {{#events}}
        <tr>
        <td class="when"><time datetime="{{recordedAt}}">{{recordedShort}}</time></td>
        <td><span class="badge {{kind}}" title="{{kindLabel}}">{{action}}</span></td>
        <td>{{#hasActor}}<a href="{{actorHref}}">{{actorId}}</a>{{/hasActor}}</td>
        <td>{{#hasResource}}<a href="{{resourceHref}}">{{resourceLabel}}</a>{{/hasResource}}</td>
        <td><a class="summary" href="{{href}}">{{summary}}</a></td>
        </tr>
        {{/events}}
        </tbody>
        </table>
        </div>
        {{/hasEvents}}
        {{^hasEvents}}<p class="empty">No events match.</p>{{/hasEvents}}
        {{#nextHref}}<p class="pages"><a rel="next" href="{{nextHref}}">Older events →</a></p>{{/nextHref}}
        """

    static let events = """
        <h1>Events</h1>
        <form class="filters" method="get" action="/ui/events" role="search" aria-label="Filter events">
        <label>Search <input type="search" name="q" value="{{filters.q}}" placeholder="words in any field"></label>
        <label>Actor <input name="actor" value="{{filters.actor}}"></label>
        <label>Action <input name="action" value="{{filters.action}}" placeholder="created, updated…"></label>
        <label>Resource type <input name="resource_type" value="{{filters.resource_type}}"></label>
        <label>Resource id <input name="resource_id" value="{{filters.resource_id}}"></label>
        <label>Category <input name="category" value="{{filters.category}}"></label>
        <label>Outcome <select name="outcome">{{#outcomes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/outcomes}}</select></label>
        <label>Since (UTC) <input type="datetime-local" step="1" name="since" value="{{filters.since}}"></label>
        <label>Until (UTC) <input type="datetime-local" step="1" name="until" value="{{filters.until}}"></label>
        <div class="actions"><button type="submit">Filter</button> <a href="/ui/events">Clear</a></div>
        </form>
        {{>eventTable}}
        """

    static let event = """
        <p class="crumbs"><a href="/ui/events">Events</a> › {{event.id}}</p>
        <h1><span class="badge {{event.kind}}">{{event.action}}</span> {{event.summary}}</h1>
        <dl class="facts">
        <dt>Recorded</dt><dd><time datetime="{{event.recordedAt}}">{{event.recordedAt}}</time></dd>
        <dt>Occurred</dt><dd><time datetime="{{event.occurredAt}}">{{event.occurredAt}}</time></dd>
        <dt>Actor</dt><dd>{{#event.hasActor}}<a href="{{event.actorHref}}">{{event.actorId}}</a>{{/event.hasActor}}{{^event.hasActor}}—{{/event.hasActor}}</dd>
        <dt>Resource</dt><dd>{{#event.hasResource}}<a href="{{event.resourceHref}}">{{event.resourceLabel}}</a>{{#event.version}} · <a href="{{event.versionHref}}">version {{event.version}}</a>{{/event.version}}{{/event.hasResource}}{{^event.hasResource}}—{{/event.hasResource}}</dd>
        <dt>Outcome</dt><dd>{{event.outcome}}</dd>
        {{#event.category}}<dt>Category</dt><dd>{{event.category}}</dd>{{/event.category}}
        {{#event.duration}}<dt>Duration</dt><dd>{{event.duration}} ms</dd>{{/event.duration}}
        <dt>Sequence</dt><dd>{{event.sequence}}</dd>
        </dl>
        {{#event.removed}}<p class="alert">Retention removed this event's content on {{event.removed}}; its place in the log and its hash remain.</p>{{/event.removed}}
        {{#event.erased}}<p class="alert">An erasure rewrote this event's personal values on {{event.erased}}.</p>{{/event.erased}}
        <h2>Changes</h2>
        {{#hasChanges}}
        <div class="scroll"><table class="changes">
        <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
        <tbody>{{#changes}}<tr><th scope="row"><code>{{path}}</code></th><td class="old">{{#hasOld}}<code>{{old}}</code>{{/hasOld}}{{^hasOld}}<span class="absent">absent</span>{{/hasOld}}</td><td class="new">{{#hasNew}}<code>{{new}}</code>{{/hasNew}}{{^hasNew}}<span class="absent">absent</span>{{/hasNew}}</td></tr>{{/changes}}</tbody>
        </table></div>
        {{/hasChanges}}
        {{^hasChanges}}<p class="empty">No field changed.</p>{{/hasChanges}}
        {{#error}}<h2>Error</h2><pre>{{error}}</pre>{{/error}}
        {{#context}}<h2>Context</h2><pre>{{context}}</pre>{{/context}}
        {{#metadata}}<h2>Metadata</h2><pre>{{metadata}}</pre>{{/metadata}}
        {{#actorJSON}}<h2>Actor</h2><pre>{{actorJSON}}</pre>{{/actorJSON}}
        <h2>Integrity</h2>
        <dl class="facts hashes">
        <dt>Hash</dt><dd><code>{{event.hash}}</code></dd>
        <dt>Previous hash</dt><dd><code>{{event.prevHash}}</code></dd>
        </dl>
        <p><a href="{{proofHref}}">Inclusion proof</a>: that this event is in the tenant's signed log.</p>
        """

    static let proof = """
        <p class="crumbs"><a href="/ui/events">Events</a> › <a href="{{eventHref}}">{{eventId}}</a> › inclusion proof</p>
        <h1>Inclusion proof</h1>
        {{#proof}}
        <p>Event {{sequence}} is leaf {{leafIndex}} of the Merkle tree of the first {{treeSize}} events of this tenant, whose root is signed by checkpoint {{#checkpoint}}of {{time}}{{/checkpoint}}.</p>
        <dl class="facts hashes">
        <dt>Event hash</dt><dd><code>{{hash}}</code></dd>
        <dt>Leaf hash</dt><dd><code>{{leafHash}}</code></dd>
        <dt>Tree size</dt><dd>{{treeSize}}</dd>
        <dt>Root</dt><dd><code>{{root}}</code></dd>
        {{#checkpoint}}<dt>Signed</dt><dd>{{time}} by key <code>{{keyId}}</code></dd><dt>Signature</dt><dd><code>{{signature}}</code></dd>{{/checkpoint}}
        </dl>
        <h2>Audit path ({{pathCount}} hashes)</h2>
        <ol class="path">{{#path}}<li><code>{{.}}</code></li>{{/path}}</ol>
        <p>Check it without Trail's help: <code>GET /api/v1/integrity/proofs/inclusion/{{eventId}}</code> gives this proof as JSON, <code>/api/v1/integrity/public-key</code> the key the checkpoint verifies with (docs/integrity.md).</p>
        {{/proof}}
        {{^proof}}<p class="alert">{{message}}</p>{{/proof}}
        """

    static let resource = """
        <p class="crumbs"><a href="{{typeHref}}">{{type}}</a> › {{id}}</p>
        <h1>{{type}} {{id}}</h1>
        <section aria-labelledby="state-title">
        <h2 id="state-title">State {{stateLabel}}</h2>
        <form class="inline" method="get" action="{{selfHref}}">
        <label>Version <input type="number" name="version" min="1" value="{{version}}"></label>
        <button type="submit">Show</button>
        </form>
        <form class="inline" method="get" action="{{selfHref}}">
        <label>At (UTC) <input type="datetime-local" step="1" name="at" value="{{at}}"></label>
        <button type="submit">Show</button>
        </form>
        {{#snapshot}}
        <p>Version {{version}}, left by <a href="{{eventHref}}">event {{eventId}}</a> recorded {{asOf}}.</p>
        {{#deleted}}<p class="alert">The resource was deleted at this version.</p>{{/deleted}}
        {{#removed}}<p class="alert">Retention removed the event that left this state; the state is no longer kept.</p>{{/removed}}
        {{#state}}<pre class="state">{{state}}</pre>{{/state}}
        {{/snapshot}}
        {{^snapshot}}<p class="empty">{{missing}}</p>{{/snapshot}}
        </section>
        <section aria-labelledby="diff-title">
        <h2 id="diff-title">Compare versions</h2>
        <form class="inline" method="get" action="{{selfHref}}">
        <label>From <input type="number" name="from" min="1" value="{{from}}"></label>
        <label>To <input type="number" name="to" min="1" value="{{to}}"></label>
        <button type="submit">Compare</button>
        </form>
        {{#diff}}
        <p>From version {{from}} to version {{to}}: {{count}} field{{plural}} changed.</p>
        <div class="scroll"><table class="changes">
        <thead><tr><th scope="col">Field</th><th scope="col">Version {{from}}</th><th scope="col">Version {{to}}</th></tr></thead>
        <tbody>{{#changes}}<tr><th scope="row"><code>{{path}}</code></th><td class="old">{{#hasOld}}<code>{{old}}</code>{{/hasOld}}{{^hasOld}}<span class="absent">absent</span>{{/hasOld}}</td><td class="new">{{#hasNew}}<code>{{new}}</code>{{/hasNew}}{{^hasNew}}<span class="absent">absent</span>{{/hasNew}}</td></tr>{{/changes}}</tbody>
        </table></div>
        {{/diff}}
        {{#diffMessage}}<p class="alert">{{diffMessage}}</p>{{/diffMessage}}
        </section>
        <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <ol class="timeline">
        {{#timeline}}<li><a href="{{versionHref}}">v{{version}}</a> <span class="badge {{kind}}">{{action}}</span> <time datetime="{{recordedAt}}">{{recordedShort}}</time> {{#hasActor}}by <a href="{{actorHref}}">{{actorId}}</a>{{/hasActor}} — <a href="{{href}}">{{summary}}</a></li>{{/timeline}}
        </ol>
        {{#nextHref}}<p class="pages"><a rel="next" href="{{nextHref}}">Later versions →</a></p>{{/nextHref}}
        </section>
        """

    static let actor = """
        <p class="crumbs"><a href="/ui/events">Events</a> › actor</p>
        <h1>Actor {{actorId}}</h1>
        <p>{{total}} event{{plural}} in the last {{days}} days.</p>
        {{{chart}}}
        <div class="facets">{{#facets}}<section><h2>{{title}}</h2><table class="counts"><tbody>{{#rows}}<tr><th scope="row">{{#href}}<a href="{{href}}">{{label}}</a>{{/href}}{{^href}}{{label}}{{/href}}</th><td>{{count}}</td></tr>{{/rows}}</tbody></table></section>{{/facets}}</div>
        <h2>Activity</h2>
        {{>eventTable}}
        """

    static let summary = """
        <h1>Summary</h1>
        <form class="filters" method="get" action="/ui/summary" aria-label="Summary period">
        <label>Days <input type="number" name="days" min="1" max="36500" value="{{days}}"></label>
        <label>Resource type <input name="resource_type" value="{{resourceType}}"></label>
        <div class="actions"><button type="submit">Show</button></div>
        </form>
        <p>{{total}} event{{plural}} in the last {{days}} days.</p>
        <h2>Events per day</h2>
        {{{chart}}}
        <div class="facets">{{#facets}}<section><h2>{{title}}</h2><table class="counts"><tbody>{{#rows}}<tr><th scope="row">{{#href}}<a href="{{href}}">{{label}}</a>{{/href}}{{^href}}{{label}}{{/href}}</th><td>{{count}}</td><td class="bar"><svg width="120" height="10" role="img" aria-label="{{count}}"><rect width="{{width}}" height="10" fill="#3b6fb6"/></svg></td></tr>{{/rows}}</tbody></table></section>{{/facets}}</div>
        """

    static let integrity = """
        <h1>Integrity</h1>
        <p>Every event is chained to the one before it by its hash, and Trail signs a checkpoint of the tenant's Merkle tree soon after new events: whoever holds the public key can check that nothing was changed or removed.</p>
        <h2>Latest signed checkpoint</h2>
        {{#checkpoint}}
        <dl class="facts hashes">
        <dt>Events covered</dt><dd>{{size}}</dd>
        <dt>Signed</dt><dd>{{time}}</dd>
        <dt>Root</dt><dd><code>{{root}}</code></dd>
        <dt>Key</dt><dd><code>{{keyId}}</code></dd>
        <dt>Signature</dt><dd><code>{{signature}}</code></dd>
        </dl>
        {{/checkpoint}}
        {{^checkpoint}}<p class="empty">No checkpoint is signed for this tenant yet.</p>{{/checkpoint}}
        <p>Events in the log: {{events}}.</p>
        <h2>Verify</h2>
        {{#canVerify}}
        <p>Reads every event of the tenant, recomputes each hash and the tree, and checks them against every signed checkpoint.</p>
        <form id="verify" method="post" action="/ui/integrity/verify" data-total="{{events}}">
        <input type="hidden" name="csrf" value="{{formToken}}">
        <button type="submit">Verify the log</button>
        <progress id="verify-progress" max="{{events}}" value="0" hidden>0</progress>
        <output id="verify-result" for="verify" aria-live="polite"></output>
        </form>
        {{/canVerify}}
        {{^canVerify}}<p>Verifying the log takes the auditor or admin role; this session has {{roles}}.</p>{{/canVerify}}
        """

    static let verified = """
        <h1>Verification</h1>
        <p class="result {{status}}" role="status">{{summary}}</p>
        <p><a href="/ui/integrity">Back to integrity</a></p>
        """

    static let tail = """
        <h1>Live</h1>
        <p>Events of this tenant as they are recorded. <span id="tail-status" role="status" aria-live="polite">Connecting…</span></p>
        <form class="filters" method="get" action="/ui/tail" aria-label="Filter the live tail">
        <label>Actor <input name="actor" value="{{filters.actor}}"></label>
        <label>Action <input name="action" value="{{filters.action}}"></label>
        <label>Resource type <input name="resource_type" value="{{filters.resource_type}}"></label>
        <div class="actions"><button type="submit">Follow</button></div>
        </form>
        <noscript><p class="alert">The live tail needs JavaScript; the <a href="/ui/events">event list</a> does not.</p></noscript>
        <div class="scroll">
        <table class="events" id="tail" data-source="{{streamHref}}">
        <thead><tr><th scope="col">Recorded (UTC)</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Resource</th><th scope="col">Summary</th></tr></thead>
        <tbody></tbody>
        </table>
        </div>
        """

    static let error = """
        <h1>{{title}}</h1>
        <p class="alert" role="alert">{{detail}}</p>
        <p><a href="/ui/events">Back to the events</a></p>
        """

    static let keys = """
        <h1>API keys</h1>
        {{#created}}<div class="alert" role="status"><p>Key <code>{{id}}</code> ({{role}}) is created. Its text is shown this once: copy it now.</p><p><code class="secret">{{text}}</code></p></div>{{/created}}
        {{#message}}<p class="alert" role="alert">{{message}}</p>{{/message}}
        <div class="scroll"><table class="keys">
        <thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Created (UTC)</th><th scope="col">Revoked</th><th scope="col"><span class="visually-hidden">Revoke</span></th></tr></thead>
        <tbody>{{#keys}}<tr><td><code>{{id}}</code></td><td>{{name}}</td><td>{{role}}</td><td>{{created}}</td><td>{{revoked}}</td><td>{{^revoked}}<form method="post" action="{{revokeHref}}"><input type="hidden" name="csrf" value="{{formToken}}"><button type="submit" class="danger" aria-label="Revoke key {{id}}">Revoke</button></form>{{/revoked}}</td></tr>{{/keys}}</tbody>
        </table></div>
        <h2>New key</h2>
        <form class="filters" method="post" action="/ui/admin/keys">
        <input type="hidden" name="csrf" value="{{formToken}}">
        <label>Name <input name="name" maxlength="200" placeholder="what uses it"></label>
        <label>Role <select name="role">{{#roles}}<option value="{{.}}">{{.}}</option>{{/roles}}</select></label>
        <div class="actions"><button type="submit">Create key</button></div>
        </form>
        """

    static let data = """
        <h1>Data lifecycle</h1>
        {{#message}}<p class="alert" role="alert">{{message}}</p>{{/message}}
        <h2>Retention rules</h2>
        <p>Events older than their rule's days lose their content (their place in the log and their hashes stay); legal holds keep what they match. Rules run when <code>trail serve --retention-interval</code> says, or with <code>trail cleanup</code>.</p>
        {{#hasRules}}<div class="scroll"><table>
        <thead><tr><th scope="col">Resource type</th><th scope="col">Category</th><th scope="col">Keep (days)</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
        <tbody>{{#rules}}<tr><td>{{resourceType}}</td><td>{{category}}</td><td>{{days}}</td><td><form method="post" action="/ui/admin/retention/remove"><input type="hidden" name="csrf" value="{{formToken}}"><input type="hidden" name="index" value="{{index}}"><button type="submit" class="danger">Remove</button></form></td></tr>{{/rules}}</tbody>
        </table></div>{{/hasRules}}
        {{^hasRules}}<p class="empty">No rule: every event is kept.</p>{{/hasRules}}
        <form class="filters" method="post" action="/ui/admin/retention/add" aria-label="Add a retention rule">
        <input type="hidden" name="csrf" value="{{formToken}}">
        <label>Resource type <input name="resource_type" value="*" required></label>
        <label>Category <input name="category" placeholder="any"></label>
        <label>Keep (days) <input type="number" name="keep_days" min="0" step="any" required></label>
        <div class="actions"><button type="submit">Add rule</button></div>
        </form>
        <form method="post" action="/ui/admin/retention/preview">
        <input type="hidden" name="csrf" value="{{formToken}}">
        <button type="submit">Preview a cleanup</button>
        </form>
        {{#preview}}<h3>What a cleanup would do now</h3><pre>{{preview}}</pre>{{/preview}}
        <h2>Legal holds</h2>
        {{#hasHolds}}<div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Reason</th><th scope="col">Holds</th><th scope="col">Created (UTC)</th><th scope="col">Released</th><th scope="col"><span class="visually-hidden">Release</span></th></tr></thead>
        <tbody>{{#holds}}<tr><td>{{name}}</td><td>{{reason}}</td><td><code>{{match}}</code></td><td>{{created}}</td><td>{{released}}</td><td>{{^released}}<form method="post" action="{{releaseHref}}"><input type="hidden" name="csrf" value="{{formToken}}"><button type="submit" class="danger">Release</button></form>{{/released}}</td></tr>{{/holds}}</tbody>
        </table></div>{{/hasHolds}}
        {{^hasHolds}}<p class="empty">No legal hold.</p>{{/hasHolds}}
        <form class="filters" method="post" action="/ui/admin/holds" aria-label="Place a legal hold">
        <input type="hidden" name="csrf" value="{{formToken}}">
        <label>Name <input name="name" required maxlength="1000"></label>
        <label>Reason <input name="reason" maxlength="1000"></label>
        <label>Resource type <input name="resource_type"></label>
        <label>Resource id <input name="resource_id"></label>
        <label>Actor <input name="actor"></label>
        <label>Since (UTC) <input type="datetime-local" step="1" name="since"></label>
        <label>Until (UTC) <input type="datetime-local" step="1" name="until"></label>
        <div class="actions"><button type="submit">Place hold</button></div>
        </form>
        """
}
