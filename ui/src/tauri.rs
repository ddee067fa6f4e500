//! The bridge to the Tauri shell: `window.__TAURI__.core.invoke` and `.event.listen`.
//!
//! Values cross as JSON text so serde sees plain objects on both sides (no JS `Map`s).

use serde::{de::DeserializeOwned, Serialize};
use thinkscope_protocol::ApiError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(event: &str, handler: &Closure<dyn FnMut(JsValue)>) -> Result<JsValue, JsValue>;
}

/// Calls a command; `args` keys are camelCase, as Tauri expects for snake_case parameters.
pub async fn invoke<R: DeserializeOwned>(cmd: &str, args: impl Serialize) -> Result<R, ApiError> {
    let args = to_js(&args)?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => from_js(&value),
        Err(err) => Err(rejection(&err)),
    }
}

/// Subscribes to an event for the life of the page, handing each payload to `handler`.
pub async fn listen<T: DeserializeOwned + 'static>(
    event: &str,
    mut handler: impl FnMut(T) + 'static,
) -> Result<(), ApiError> {
    let name = event.to_string();
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload = js_sys::Reflect::get(&event, &JsValue::from_str("payload"))
            .unwrap_or(JsValue::NULL);
        match from_js::<T>(&payload) {
            Ok(value) => handler(value),
            Err(e) => web_sys::console::error_1(&format!("bad `{name}` payload: {e}").into()),
        }
    });
    tauri_listen(event, &closure).await.map_err(|e| rejection(&e))?;
    // The page never unsubscribes, so the closure lives as long as the page.
    closure.forget();
    Ok(())
}

fn to_js(value: &impl Serialize) -> Result<JsValue, ApiError> {
    let text = serde_json::to_string(value).map_err(|e| ApiError { message: e.to_string() })?;
    js_sys::JSON::parse(&text).map_err(|e| rejection(&e))
}

fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, ApiError> {
    // `undefined` (a command returning `()`) is not JSON; read it as null.
    let text = if value.is_undefined() {
        "null".to_string()
    } else {
        js_sys::JSON::stringify(value)
            .map_err(|e| rejection(&e))?
            .as_string()
            .unwrap_or_else(|| "null".into())
    };
    serde_json::from_str(&text).map_err(|e| ApiError { message: format!("unexpected reply: {e}") })
}

/// Commands reject with a serialized `ApiError`; Tauri itself rejects with a string.
fn rejection(err: &JsValue) -> ApiError {
    if let Some(text) = err.as_string() {
        return ApiError { message: text };
    }
    from_js::<ApiError>(err).unwrap_or_else(|_| ApiError { message: format!("{err:?}") })
}
