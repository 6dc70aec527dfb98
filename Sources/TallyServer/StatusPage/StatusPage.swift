/// The status page served at `GET /`: one self-contained HTML document.
///
/// No external scripts, fonts, stylesheets or images: CSS and JavaScript are
/// inline and the charts are inline SVG, and the response's
/// `Content-Security-Policy` forbids loading anything but this origin's
/// `/v1/metrics` and `/metrics`. Every ~2 s the page reads the derived
/// metrics (`/v1/metrics`) and this node's ingest and processed counters
/// (`/metrics`), keeps the last ``historySamples`` readings in the browser
/// (bounded) and redraws. Client-supplied strings (tool names, error codes)
/// are written with `textContent`, never as HTML.
package enum StatusPage {
    /// Readings kept client-side for the charts: 150 × 2 s = the last 5 minutes.
    public static let historySamples = 150
    /// Milliseconds between readings.
    public static let pollMilliseconds = 2000

    /// `Content-Security-Policy` for the page: inline code only, fetches to this origin only.
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"

    /// The document.
    public static let html: String = StatusPageDocument.head + StatusPageDocument.body
        + "<script>\nconst HISTORY = \(historySamples);\nconst POLL_MS = \(pollMilliseconds);\n" + StatusPageDocument.script + "</script>\n</body>\n</html>\n"
}
