//! End to end in a real window: the app under Xvfb, driven over WebDriver.
//!
//! Imports MATH-500 through the import dialog (path pasted into its text field, as native
//! pickers cannot be driven), searches "prime", opens a result, checks that KaTeX rendered
//! the formulas; then a GPQA CSV (lettered choices, the correct one marked) and a Z1 row (a
//! collapsed trace that renders when opened); and saves a screenshot.
//!
//! Needs Xvfb, tauri-driver and WebKitWebDriver. Without them the test fails when `CI` is
//! set and is skipped otherwise.

mod support;

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use std::future::Future;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Guard, Tools};

const STEP_TIMEOUT: Duration = Duration::from_secs(30);
const IMPORT_TIMEOUT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_search_and_open_a_sample_with_rendered_math() {
    let tools = match support::find_tools() {
        Ok(tools) => tools,
        Err(missing) if std::env::var_os("CI").is_some() => {
            panic!("real-window test cannot run: {missing}")
        }
        Err(missing) => {
            eprintln!("skipped: real-window test needs tools that are not installed ({missing})");
            return;
        }
    };
    let app = support::app_binary().unwrap_or_else(|e| panic!("{e}"));
    let dataset = support::shared_dir().join("datasets").join("math500.jsonl");
    assert!(dataset.is_file(), "dataset not found: {} (set THINKSCOPE_SHARED)", dataset.display());
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    std::fs::create_dir_all(&artifacts).expect("artifact dir");

    let tmp = tempfile::tempdir().expect("temp dir");
    let (_xvfb, _driver, port) = start_driver(&tools, tmp.path()).unwrap_or_else(|e| panic!("{e}"));

    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app.display().to_string() }),
    );
    let client = connect(caps, port).await.unwrap_or_else(|e| panic!("{e}"));

    write_extra_files(tmp.path()).unwrap_or_else(|e| panic!("writing test files: {e}"));
    let outcome = drive(&client, &dataset, tmp.path(), &artifacts).await;
    let shot = artifacts.join(if outcome.is_ok() { "library.png" } else { "failure.png" });
    let saved = save_screenshot(&client, &shot).await;
    // Ending the session closes the app; tauri-driver and Xvfb stop when their guards drop.
    if let Err(e) = client.close().await {
        eprintln!("closing the WebDriver session: {e}");
    }
    match (&outcome, &saved) {
        (Ok(()), Ok(())) => println!("screenshot: {}", shot.display()),
        (Ok(()), Err(e)) => panic!("screenshot not saved: {e}"),
        (Err(e), _) => panic!("{e}\n(screenshot of the failure: {})", shot.display()),
    }
}

/// A WebDriver session on the app. tauri-driver listens before the WebKitWebDriver it
/// starts does, so on a loaded machine the first request can fail: retry for a while.
async fn connect(caps: serde_json::Map<String, serde_json::Value>, port: u16) -> Result<Client, String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        match ClientBuilder::native().capabilities(caps.clone()).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => return Ok(client),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("cannot open a WebDriver session on the app: {e}"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Xvfb plus tauri-driver on free ports, with the app's library in `tmp`.
fn start_driver(tools: &Tools, tmp: &Path) -> Result<(Guard, Guard, u16), String> {
    let (xvfb, display) = support::start_xvfb(&tools.xvfb)?;
    let port = support::free_port()?;
    let native_port = (0..10)
        .find_map(|_| support::free_port().ok().filter(|p| *p != port))
        .ok_or("no second free port")?;
    let xdg = tmp.join("xdg");
    std::fs::create_dir_all(&xdg).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(tmp.join("tauri-driver.log")).map_err(|e| e.to_string())?;
    let mut driver = Guard::spawn(
        "tauri-driver",
        Command::new(&tools.tauri_driver)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(&tools.webkit_driver)
            // The app inherits these through WebKitWebDriver.
            .env("DISPLAY", format!(":{display}"))
            .env("THINKSCOPE_DB", tmp.join("library.db"))
            .env("XDG_DATA_HOME", &xdg)
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(Stdio::from(log)),
    )?;
    support::wait_for_port(port, &mut driver, Duration::from_secs(20))?;
    Ok((xvfb, driver, port))
}

/// Imports `file` through the dialog (its preview must show `column`, its report
/// `rows`, e.g. "2 rows") and opens it.
async fn import_file(c: &Client, file: &Path, column: &str, rows: &str) -> Result<(), String> {
    find(c, "#import-open").await?.click().await.map_err(err("open import dialog"))?;
    let path_box = find(c, "#import-path").await?;
    path_box.clear().await.map_err(err("clear path"))?;
    path_box.send_keys(&file.display().to_string()).await.map_err(err("type path"))?;
    find(c, "#import-preview").await?.click().await.map_err(err("preview"))?;
    find(c, ".mapping select").await?;
    let preview = text(&find(c, "table.preview").await?).await?;
    expect(preview.contains(column), format!("preview lacks the `{column}` column: {preview}"))?;
    find(c, "#import-start").await?.click().await.map_err(err("start import"))?;
    let report = find_within(c, "#import-done", IMPORT_TIMEOUT).await?;
    let report = text(&report).await?;
    expect(report.contains(&format!("Imported {rows} into")), format!("unexpected import report: {report}"))?;
    find(c, "#import-open-dataset").await?.click().await.map_err(err("open dataset"))
}

/// Clicks through the app; `window.png` in `artifacts` shows a sample with rendered math.
async fn drive(c: &Client, dataset: &Path, extra: &Path, artifacts: &Path) -> Result<(), String> {
    import_file(c, dataset, "problem", "500 rows").await?;

    // The dataset view: charts, then search with highlighted matches.
    find(c, ".chart svg").await?;
    let summary = find(c, ".summary").await?;
    until("the table to load 500 samples", || async {
        Ok(text(&summary).await? == "500 samples")
    })
    .await?;
    let search = find(c, "#search").await?;
    search.send_keys("prime").await.map_err(err("type search"))?;
    until("search results", || async {
        Ok(text(&summary).await?.contains("matches for “prime”"))
    })
    .await?;
    let marked = text(&find(c, ".sample-row mark").await?).await?;
    expect(marked.to_lowercase().starts_with("prime"), format!("highlighted `{marked}`, not `prime`"))?;

    // Open the first result: the question renders with KaTeX.
    find(c, ".sample-row").await?.click().await.map_err(err("open sample"))?;
    find(c, ".detail .sample h2").await?;
    let formulas = until_some("KaTeX output in the detail", || async {
        let found = c.find_all(Locator::Css(".detail .md .katex")).await.map_err(err("find katex"))?;
        Ok((!found.is_empty()).then_some(found.len()))
    })
    .await?;
    let mathml = c.find_all(Locator::Css(".detail .katex-mathml")).await.map_err(err("mathml"))?;
    expect(mathml.len() == formulas, format!("{formulas} formulas but {} MathML blocks", mathml.len()))?;
    let raw = c
        .find_all(Locator::Css(".detail .katex-error"))
        .await
        .map_err(err("katex errors"))?;
    expect(raw.len() < formulas, "every formula failed to render".to_string())?;
    save_screenshot(c, &artifacts.join("window.png")).await?;

    // Keyboard from the search box: Escape closes the detail, Enter opens the selected row.
    search.send_keys(&Key::Escape.to_string()).await.map_err(err("escape"))?;
    until("the detail to close", || async {
        Ok(c.find_all(Locator::Css(".detail")).await.map_err(err("detail"))?.is_empty())
    })
    .await?;
    search.send_keys(&Key::Enter.to_string()).await.map_err(err("enter"))?;
    find(c, ".detail .md .katex").await?;
    search.send_keys(&Key::Escape.to_string()).await.map_err(err("escape"))?;

    // Multiple choice reads as lettered options with the correct one marked.
    import_file(c, &extra.join("gpqa.csv"), "Incorrect Answer 1", "2 rows").await?;
    find(c, ".sample-row").await?.click().await.map_err(err("open gpqa sample"))?;
    let options = until_some("four choices", || async {
        let found = c.find_all(Locator::Css(".detail ol.choices li")).await.map_err(err("choices"))?;
        Ok((found.len() == 4).then_some(found))
    })
    .await?;
    let correct = c.find_all(Locator::Css(".detail ol.choices li.correct")).await.map_err(err("correct"))?;
    expect(correct.len() == 1, format!("{} choices marked correct", correct.len()))?;
    expect(text(&options[0]).await?.contains("Helium"), "the first choice is not the stored one".to_string())?;

    // A thinking trace is collapsed until opened, then rendered.
    import_file(c, &extra.join("z1.jsonl"), "response", "1 row").await?;
    let summary = find(c, ".summary").await?;
    until("the one-row table", || async { Ok(text(&summary).await? == "1 sample") }).await?;
    find(c, ".sample-row").await?.click().await.map_err(err("open z1 sample"))?;
    let trace = find(c, ".detail details.trace").await?;
    expect(trace.attr("open").await.map_err(err("open attr"))?.is_none(), "the trace starts open".to_string())?;
    find(c, ".detail details.trace summary").await?.click().await.map_err(err("open trace"))?;
    until("the trace text", || async { Ok(text(&trace).await?.contains("carefully count the r")) }).await?;

    // Deleting from the library: the first click asks, the second deletes.
    find(c, "nav .tab").await?.click().await.map_err(err("library tab"))?;
    // A row is redrawn when its dataset's index catches up: look again if one goes stale.
    let gpqa = until_some("the gpqa row among three datasets", || async {
        let found = c.find_all(Locator::Css("tr.dataset-row")).await.map_err(err("dataset rows"))?;
        if found.len() != 3 {
            return Ok(None);
        }
        for row in found {
            match text(&row).await {
                Ok(t) if t.contains("gpqa.csv") => return Ok(Some(row)),
                Ok(_) => {}
                Err(_) => return Ok(None),
            }
        }
        Err("no library row for gpqa.csv".to_string())
    })
    .await?;
    gpqa.find(Locator::Css(".delete-dataset")).await.map_err(err("delete button"))?.click().await.map_err(err("delete"))?;
    let confirm = gpqa.find(Locator::Css(".confirm-delete")).await.map_err(err("confirm button"))?;
    let asked = text(&gpqa).await?;
    expect(asked.contains("Delete 2 rows?"), format!("no confirmation in the row: {asked}"))?;
    confirm.click().await.map_err(err("confirm delete"))?;
    let body = find(c, "table.datasets tbody").await?;
    until("the gpqa row to go", || async {
        let found = c.find_all(Locator::Css("tr.dataset-row")).await.map_err(err("dataset rows"))?;
        Ok(found.len() == 2 && !text(&body).await?.contains("gpqa.csv"))
    })
    .await?;
    Ok(())
}

/// Small files of two more layouts: a GPQA Diamond CSV and a Z1 JSONL row.
fn write_extra_files(dir: &Path) -> Result<(), String> {
    let gpqa = "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Explanation,Subdomain,High-level domain,Record ID\n\
        Which noble gas is lightest?,Helium,Neon,Argon,Xenon,Atomic mass.,Chemistry (general),Chemistry,rec1\n\
        What is $2^{10}$?,1024,1000,2048,512,Powers of two.,Mathematics,Physics,rec2\n";
    let z1 = serde_json::json!({
        "id": 1,
        "question": "How many r are in strawberry?",
        "response": "Let me carefully count the r letters: s-t-r-a-w-b-e-r-r-y has three. The answer is 3.",
        "token_num_qwen": 25,
    });
    std::fs::write(dir.join("gpqa.csv"), gpqa).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("z1.jsonl"), format!("{z1}\n")).map_err(|e| e.to_string())
}

/// The DOM text of an element (WebDriver's visible-text rules skip clipped table cells).
async fn text(e: &Element) -> Result<String, String> {
    Ok(e.prop("textContent").await.map_err(err("textContent"))?.unwrap_or_default())
}

fn err(what: &'static str) -> impl Fn(fantoccini::error::CmdError) -> String {
    move |e| format!("{what}: {e}")
}

fn expect(ok: bool, message: String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message) }
}

async fn find(c: &Client, css: &str) -> Result<Element, String> {
    find_within(c, css, STEP_TIMEOUT).await
}

async fn find_within(c: &Client, css: &str, timeout: Duration) -> Result<Element, String> {
    c.wait()
        .at_most(timeout)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("`{css}` did not appear within {timeout:?}: {e}"))
}

/// Polls `check` until it yields a value or `STEP_TIMEOUT` passes.
async fn until_some<T, F, Fut>(what: &str, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn until<F, Fut>(what: &str, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, String>>,
{
    until_some(what, || {
        let fut = check();
        async move { Ok(fut.await?.then_some(())) }
    })
    .await
}

async fn save_screenshot(c: &Client, path: &Path) -> Result<(), String> {
    let png = c.screenshot().await.map_err(err("screenshot"))?;
    expect(png.starts_with(b"\x89PNG"), "screenshot is not a PNG".into())?;
    std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
}
