//! KaTeX, loaded by `index.html` from the copy bundled in `dist/katex/` (no CDN).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = katex, js_name = renderToString, catch)]
    fn render_to_string(tex: &str, options: &JsValue) -> Result<String, JsValue>;
}

/// One formula as KaTeX HTML. Bad TeX comes back as KaTeX's red error text rather than
/// failing the page; if KaTeX itself is missing the source is shown escaped.
pub fn render(tex: &str, display: bool) -> String {
    let options = js_sys::Object::new();
    for (key, value) in [
        ("displayMode", JsValue::from_bool(display)),
        ("throwOnError", JsValue::FALSE),
        ("strict", JsValue::from_str("ignore")),
        // `trust: false` (the default) keeps \href and \includegraphics inert.
        ("trust", JsValue::FALSE),
    ] {
        // Setting a plain property on a fresh object cannot fail.
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str(key), &value);
    }
    render_to_string(tex, &options).unwrap_or_else(|_| {
        let escaped = tex.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        format!("<code class=\"tex-source\">{escaped}</code>")
    })
}
