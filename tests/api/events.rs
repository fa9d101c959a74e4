//! The SSE stream: monotonically increasing ids, and no event lost across a reconnect.

use crate::helpers::*;
use futures::StreamExt;
use std::time::Duration;

struct Sse {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes_alias::Bytes>>,
    buf: String,
}

mod bytes_alias {
    pub type Bytes = axum::body::Bytes;
}

/// One parsed event: (id, type, data).
type Ev = (u64, String, String);

impl Sse {
    async fn open(app: &TestApp, last_id: Option<u64>) -> Sse {
        let mut req = app.client.get(app.url("/v1/events"));
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        Sse {
            stream: resp.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    async fn next_any(&mut self) -> Option<Ev> {
        self.next_matching(|_| true).await
    }

    /// The next event of `kind`, within a deadline.
    async fn next_of(&mut self, kind: &str) -> Option<Ev> {
        self.next_matching(|k| k == kind).await
    }

    async fn next_matching(&mut self, want: impl Fn(&str) -> bool) -> Option<Ev> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut ty, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ty = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if let Some(id) = id {
                    if want(&ty) {
                        return Some((id, ty, data));
                    }
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn add_attempt(root: &std::path::Path, id: &str) {
    let dir = root.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let (report, events) = small_attempt(1);
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    std::fs::write(dir.join("report.json"), report).unwrap();
}

#[tokio::test]
async fn a_client_that_resumes_with_last_event_id_misses_no_event() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let mut sse = Sse::open(&app, None).await;
    add_attempt(ws.path(), "live/20261128_230000");
    // Read until the first attempt is seen as pass; remember the last id received.
    let last = loop {
        let (id, _, data) = sse.next_of("attempt.indexed").await.expect("an event");
        if data.contains("230000") && data.contains("\"pass\"") {
            break id;
        }
    };
    drop(sse);

    // While disconnected, two more attempts arrive.
    add_attempt(ws.path(), "live/20261128_230001");
    add_attempt(ws.path(), "live/20261128_230002");
    eventually(Duration::from_secs(30), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["index"]["attempts"]["pass"] == 3).then_some(())
    })
    .await
    .expect("indexed while disconnected");

    // The resumed stream continues exactly after `last`: consecutive ids, nothing skipped.
    let mut sse = Sse::open(&app, Some(last)).await;
    let mut seen = String::new();
    let mut expect = last + 1;
    while !(seen.contains("230001") && seen.contains("230002")) {
        let (id, _, data) = sse.next_any().await.expect("replayed event");
        assert_eq!(id, expect, "event ids are consecutive after Last-Event-ID");
        expect += 1;
        seen.push_str(&data);
    }
    app.stop().await;
}
