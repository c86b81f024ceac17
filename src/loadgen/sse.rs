//! The token stream of an OpenAI-compatible streaming completion
//! (`/v1/completions` or `/v1/chat/completions` with `"stream": true`): a
//! body of server-sent events, read as it arrives, each event that carries
//! output text timestamped when its bytes were read.
//!
//! Only events with text count as tokens: comments (`: ping`), events with
//! no data, a chat stream's first event (its role, no content), `[DONE]`
//! and a final usage event are skipped. The usage event's token counts are
//! kept, since a server may pack several tokens into one event. Memory is
//! bounded: a line longer than [`MAX_LINE`] is dropped and counted.

use tokio::time::Instant;

/// The longest event line kept.
pub const MAX_LINE: usize = 1 << 20;

/// What one streamed answer showed.
#[derive(Debug, Default)]
pub struct TokenStream {
    /// The line being read.
    line: Vec<u8>,
    /// The event being read: its data lines, joined by newlines.
    data: Vec<u8>,
    /// A line was too long, and its remainder is being skipped.
    skipping: bool,
    /// When the first event with text arrived.
    pub first: Option<Instant>,
    /// When the latest one did.
    pub last: Option<Instant>,
    /// Events with text.
    pub events: u64,
    /// Gaps between consecutive events with text, in nanoseconds.
    pub gaps: Vec<u64>,
    /// The server's count of output tokens (`usage.completion_tokens`).
    pub completion_tokens: Option<u64>,
    /// The server's count of prompt tokens (`usage.prompt_tokens`).
    pub prompt_tokens: Option<u64>,
    /// `[DONE]` arrived.
    pub done: bool,
    /// An event reported an error, or could not be read.
    pub malformed: u64,
}

impl TokenStream {
    /// Forgets the last answer, keeping the buffers.
    pub fn clear(&mut self) {
        self.line.clear();
        self.data.clear();
        self.gaps.clear();
        *self = Self {
            line: std::mem::take(&mut self.line),
            data: std::mem::take(&mut self.data),
            gaps: std::mem::take(&mut self.gaps),
            ..Self::default()
        };
    }

    /// The output tokens: the server's count when it gave one, else the
    /// events with text.
    pub fn output_tokens(&self) -> u64 {
        self.completion_tokens.unwrap_or(self.events)
    }

    /// Body bytes read at `at`.
    pub fn feed(&mut self, bytes: &[u8], at: Instant) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            if !self.skipping {
                self.extend_line(&rest[..end]);
            }
            let skipped = std::mem::take(&mut self.skipping);
            if !skipped {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.on_line(&line, at);
                line.clear();
                self.line = line;
            }
            rest = &rest[end + 1..];
        }
        if !self.skipping {
            self.extend_line(rest);
        }
    }

    fn extend_line(&mut self, bytes: &[u8]) {
        if self.line.len() + bytes.len() > MAX_LINE {
            self.line.clear();
            self.skipping = true;
            self.malformed += 1;
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn on_line(&mut self, line: &[u8], at: Instant) {
        if line.is_empty() {
            self.dispatch(at);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            if !self.data.is_empty() {
                self.data.push(b'\n');
            }
            if self.data.len() + value.len() <= MAX_LINE {
                self.data.extend_from_slice(value);
            }
        }
    }

    /// An event ended: count it if it carried text.
    fn dispatch(&mut self, at: Instant) {
        if self.data.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.data);
        if data.trim_ascii() == b"[DONE]" {
            self.done = true;
        } else {
            match serde_json::from_slice::<serde_json::Value>(&data) {
                Ok(event) => self.event(&event, at),
                Err(_) => self.malformed += 1,
            }
        }
        self.data = data;
        self.data.clear();
    }

    fn event(&mut self, event: &serde_json::Value, at: Instant) {
        if event.get("error").is_some_and(|e| !e.is_null()) {
            self.malformed += 1;
            return;
        }
        if let Some(usage) = event.get("usage") {
            let count = |name| usage.get(name).and_then(serde_json::Value::as_u64);
            self.completion_tokens = count("completion_tokens").or(self.completion_tokens);
            self.prompt_tokens = count("prompt_tokens").or(self.prompt_tokens);
        }
        let text = event
            .get("choices")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|choices| {
                choices.iter().any(|choice| {
                    let text = choice
                        .get("text")
                        .or_else(|| choice.get("delta").and_then(|d| d.get("content")));
                    text.and_then(serde_json::Value::as_str)
                        .is_some_and(|t| !t.is_empty())
                })
            });
        if !text {
            return;
        }
        if let Some(last) = self.last {
            let gap = at.saturating_duration_since(last).as_nanos();
            self.gaps.push(u64::try_from(gap).unwrap_or(u64::MAX));
        } else {
            self.first = Some(at);
        }
        self.last = Some(at);
        self.events += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn completion(text: &str) -> String {
        format!(
            "data: {{\"id\":\"c\",\"object\":\"text_completion\",\"choices\":[{{\"index\":0,\"text\":{text:?},\"finish_reason\":null}}]}}\n\n"
        )
    }

    #[test]
    fn only_events_with_text_are_tokens_and_each_is_timed_when_read() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut stream = TokenStream::default();
        // Control frames first: a comment, an empty event, a chat role
        // event without content, an empty text.
        stream.feed(b": ping\n\ndata:\n\n", ms(1));
        stream.feed(
            b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\n",
            ms(2),
        );
        stream.feed(completion("").as_bytes(), ms(3));
        assert_eq!((stream.events, stream.first), (0, None));
        // A token split across reads counts when its event ends.
        let one = completion(" hello");
        let (a, b) = one.split_at(20);
        stream.feed(a.as_bytes(), ms(10));
        assert_eq!(stream.events, 0);
        stream.feed(b.as_bytes(), ms(12));
        // Two tokens in one read share its time.
        let two = format!("{}{}", completion(" a"), completion(" b"));
        stream.feed(two.as_bytes(), ms(20));
        stream.feed(
            b"data: {\"choices\":[{\"delta\":{\"content\":\" c\"}}]}\n\n",
            ms(25),
        );
        stream.feed(
            b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":5}}\n\ndata: [DONE]\n\n",
            ms(26),
        );
        assert_eq!(stream.events, 4);
        assert_eq!(stream.first, Some(ms(12)));
        assert_eq!(stream.last, Some(ms(25)));
        assert_eq!(stream.gaps, [8_000_000, 0, 5_000_000]);
        assert_eq!(
            (stream.completion_tokens, stream.prompt_tokens),
            (Some(5), Some(7))
        );
        assert_eq!(stream.output_tokens(), 5);
        assert!(stream.done);
        assert_eq!(stream.malformed, 0);
        stream.clear();
        assert_eq!(
            (stream.events, stream.done, stream.gaps.len()),
            (0, false, 0)
        );
    }

    #[test]
    fn any_bytes_in_any_pieces_never_panic_and_stay_bounded() {
        // A fixed pseudo-random stream of fragments that look like events,
        // and junk, cut at random places.
        let pieces: [&[u8]; 9] = [
            b"data: ",
            b"{\"choices\":[{\"text\":\"x\"}]}",
            b"\n",
            b"\r\n",
            b": c\n",
            b"data: [DONE]",
            b"{\"usage\":{\"completion_tokens\":18446744073709551615}}",
            b"\xff\xfe{[\"",
            b"event: x\nid: 1\nretry: 5\n",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let at = Instant::now();
        let mut stream = TokenStream::default();
        let mut bytes = Vec::new();
        for _ in 0..20_000 {
            #[expect(clippy::cast_possible_truncation, reason = "below 9")]
            bytes.extend_from_slice(pieces[next(9) as usize]);
        }
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            #[expect(clippy::cast_possible_truncation, reason = "below 64")]
            let n = (next(64) as usize + 1).min(rest.len());
            stream.feed(&rest[..n], at);
            rest = &rest[n..];
            assert!(stream.line.len() <= MAX_LINE && stream.data.len() <= MAX_LINE);
        }
        assert!(stream.events > 0 && stream.done);
        assert_eq!(stream.gaps.len() as u64, stream.events - 1);
    }

    #[test]
    fn errors_broken_json_and_endless_lines_are_counted_not_kept() {
        let at = Instant::now();
        let mut stream = TokenStream::default();
        stream.feed(b"data: {\"error\":{\"message\":\"overloaded\"}}\n\n", at);
        stream.feed(b"data: {not json\n\n", at);
        let long = vec![b'x'; MAX_LINE + 10];
        stream.feed(b"data: ", at);
        stream.feed(&long, at);
        stream.feed(&long, at);
        assert!(stream.line.len() <= MAX_LINE);
        stream.feed(b"\n\n", at);
        stream.feed(completion("ok").as_bytes(), at);
        assert_eq!(stream.malformed, 3);
        assert_eq!(stream.events, 1);
    }
}
