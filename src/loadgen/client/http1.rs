//! The HTTP/1.1 reader: one connection's read buffer, the response head
//! parsed just enough to find the body's end, and bodies by length, chunked
//! or to the end of the stream. [`read_response`] runs it over bytes in
//! memory, for tests and fuzzing.

use tokio::net::TcpStream;

use super::super::sse::TokenStream;
use super::{Answer, Failure, HANDLED_HEADER, Stream};

/// The longest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// One HTTP/1.1 connection and its read buffer.
pub(super) struct Http1 {
    stream: Stream,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// The server said `Connection: close`, or the body ran to the end of
    /// the stream: open a new connection for the next request.
    pub(super) closed: bool,
    /// Reads the body as server-sent events, as it arrives.
    pub(super) tokens: Option<TokenStream>,
    /// When the last answer ended (or the connection opened).
    idle_since: tokio::time::Instant,
}

/// A connection idle this long is checked for a close by the server
/// before it carries another request.
const CHECK_IDLE: std::time::Duration = std::time::Duration::from_millis(500);

impl Http1 {
    pub(super) fn new(stream: Stream) -> Self {
        Self {
            stream,
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            closed: false,
            tokens: None,
            idle_since: tokio::time::Instant::now(),
        }
    }

    /// Whether the server has closed the connection while it was idle (as
    /// servers with a keep-alive timeout do, Node.js's after 5 s): a
    /// request written to it would fail with a reset that is the client's
    /// doing, not the server's. Checked only after [`CHECK_IDLE`], so a
    /// busy connection costs no extra system call.
    pub(super) fn closed_while_idle(&self) -> bool {
        if self.idle_since.elapsed() < CHECK_IDLE {
            return false;
        }
        match &self.stream {
            Stream::Tcp(stream) => match stream.try_read(&mut [0_u8; 1]) {
                // The end of the stream, or bytes no request asked for.
                Ok(_) => true,
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            },
            Stream::Tls(_) | Stream::Memory { .. } => false,
        }
    }

    /// Reads more bytes; the end of the stream mid-response is a reset.
    async fn fill(&mut self) -> Result<(), Failure> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        match self.stream.read(&mut self.buf[self.end..]).await {
            Ok(0) => Err(Failure::Reset),
            Ok(n) => {
                self.end += n;
                Ok(())
            }
            Err(e) => Err(Failure::of_io(&e)),
        }
    }

    /// Skips `n` body bytes.
    async fn skip(&mut self, mut n: u64) -> Result<(), Failure> {
        while n > 0 {
            if self.start == self.end {
                self.fill().await?;
            }
            let take = ((self.end - self.start) as u64).min(n);
            #[expect(
                clippy::cast_possible_truncation,
                reason = "at most the buffer's length"
            )]
            let take_usize = take as usize;
            if let Some(tokens) = &mut self.tokens {
                tokens.feed(
                    &self.buf[self.start..self.start + take_usize],
                    tokio::time::Instant::now(),
                );
            }
            self.start += take_usize;
            n -= take;
        }
        Ok(())
    }

    /// The next line, without its CRLF.
    async fn line(&mut self) -> Result<String, Failure> {
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = find(&unread[..unread.len().min(MAX_HEAD + 2)], b"\r\n") {
                let line =
                    String::from_utf8_lossy(&self.buf[self.start..self.start + at]).into_owned();
                self.start += at + 2;
                return Ok(line);
            }
            if self.end - self.start > MAX_HEAD {
                return Err(Failure::Other);
            }
            self.fill().await?;
        }
    }

    /// Reads to the end of the stream; returns how many bytes came.
    async fn drain(&mut self) -> Result<u64, Failure> {
        let mut bytes = (self.end - self.start) as u64;
        if let Some(tokens) = &mut self.tokens {
            tokens.feed(&self.buf[self.start..self.end], tokio::time::Instant::now());
        }
        (self.start, self.end) = (0, 0);
        loop {
            match self.stream.read(&mut self.buf).await {
                Ok(0) => return Ok(bytes),
                Ok(n) => {
                    bytes += n as u64;
                    if let Some(tokens) = &mut self.tokens {
                        tokens.feed(&self.buf[..n], tokio::time::Instant::now());
                    }
                }
                Err(e) => return Err(Failure::of_io(&e)),
            }
        }
    }

    /// Writes `request` and reads the whole answer.
    /// Counts the request in `written` once it is on the wire.
    pub(super) async fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        written: &mut u64,
    ) -> Result<Answer, Failure> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| Failure::of_io(&e))?;
        *written += 1;
        // A head longer than MAX_HEAD is refused however it arrives: in one
        // read or in many.
        let head_end = loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = find(&unread[..unread.len().min(MAX_HEAD + 4)], b"\r\n\r\n") {
                break self.start + at + 4;
            }
            if self.end - self.start > MAX_HEAD {
                return Err(Failure::Other);
            }
            self.fill().await?;
        };
        let parsed = parse_head(&self.buf[self.start..head_end]).ok_or(Failure::Protocol)?;
        self.start = head_end;
        if parsed.close {
            self.closed = true;
        }
        let status = parsed.status;
        let bodiless = head || (100..200).contains(&status) || status == 204 || status == 304;
        let bytes = if bodiless {
            0
        } else if parsed.chunked {
            self.chunked().await?
        } else if let Some(length) = parsed.length {
            self.skip(length).await?;
            length
        } else {
            // No length: the body runs to the end of the stream.
            self.closed = true;
            self.drain().await?
        };
        self.idle_since = tokio::time::Instant::now();
        Ok(Answer {
            status,
            bytes,
            handled_ns: parsed.handled_ns,
        })
    }

    /// Reads a chunked body; returns its payload size.
    async fn chunked(&mut self) -> Result<u64, Failure> {
        let mut bytes = 0;
        loop {
            let line = self.line().await?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| Failure::Other)?;
            if size == 0 {
                // Trailers, up to an empty line.
                while !self.line().await?.is_empty() {}
                return Ok(bytes);
            }
            self.skip(size).await?;
            bytes += size;
            if !self.line().await?.is_empty() {
                return Err(Failure::Other);
            }
        }
    }
}

/// A plain-TCP HTTP/1.1 connection for the emulator's calls between
/// services: it writes a request serialised by the caller and reads the
/// whole answer, with the same lean parser as the load generator.
pub(in crate::loadgen) struct Plain(Http1);

impl Plain {
    /// Connects to `address`.
    pub(in crate::loadgen) async fn connect(
        address: std::net::SocketAddr,
    ) -> Result<Self, Failure> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| Failure::of_io(&e))?;
        let _ = stream.set_nodelay(true);
        Ok(Self(Http1::new(Stream::Tcp(stream))))
    }

    /// Connects to `host:port`, resolving the host (a cluster's DNS name).
    pub(in crate::loadgen) async fn connect_named(peer: &str) -> Result<Self, Failure> {
        let stream = TcpStream::connect(peer)
            .await
            .map_err(|e| Failure::of_io(&e))?;
        let _ = stream.set_nodelay(true);
        Ok(Self(Http1::new(Stream::Tcp(stream))))
    }

    /// Writes `request` and reads the answer to its end.
    pub(in crate::loadgen) async fn exchange(&mut self, request: &[u8]) -> Result<Answer, Failure> {
        let mut written = 0;
        self.0.exchange(request, false, &mut written).await
    }

    /// Whether the server closed it: it cannot carry another request.
    pub(in crate::loadgen) fn is_closed(&self) -> bool {
        self.0.closed
    }
}

/// Reads one HTTP/1.1 response from `bytes`, as a server would send them,
/// delivered `chunk` bytes per read (at least one), with the load
/// generator's own reader: the status and the body's size, or why not. The
/// end of the bytes is the end of the stream. It never panics, whatever the
/// bytes (`tests/properties.rs` and the fuzz target `http_response`).
pub fn read_response(bytes: &[u8], chunk: usize) -> Result<Answer, Failure> {
    let mut connection = Http1::new(Stream::Memory {
        input: bytes.to_vec(),
        at: 0,
        chunk: chunk.max(1),
    });
    let mut written = 0;
    let reading = std::pin::pin!(connection.exchange(b"", false, &mut written));
    // Reads from memory never wait, so one poll runs it to the end.
    match std::future::Future::poll(
        reading,
        &mut std::task::Context::from_waker(std::task::Waker::noop()),
    ) {
        std::task::Poll::Ready(answer) => answer,
        std::task::Poll::Pending => unreachable!("reads from memory never wait"),
    }
}

/// What the response head says about the body.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    length: Option<u64>,
    chunked: bool,
    close: bool,
    handled_ns: Option<u64>,
}

/// Parses a response head (status line and headers, ending in an empty
/// line); `None` when it is not HTTP/1.x.
fn parse_head(head: &[u8]) -> Option<Head> {
    // Bytes, not text: this runs once per response on the hot path.
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next()?;
    let rest = status_line.strip_prefix(b"HTTP/1.")?;
    let (&version_minor, rest) = rest.split_first()?;
    let digits = rest.get(1..4)?;
    if rest.first() != Some(&b' ') || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = digits
        .iter()
        .fold(0_u16, |n, d| n * 10 + u16::from(d - b'0'));
    let mut parsed = Head {
        status,
        length: None,
        chunked: false,
        close: version_minor == b'0',
        handled_ns: None,
    };
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        // Only four headers matter; skip the rest by their length first.
        if !matches!(name.len(), 10 | 14 | 17 | 22) {
            continue;
        }
        let Ok(value) = std::str::from_utf8(line[colon + 1..].trim_ascii()) else {
            continue;
        };
        let name = std::str::from_utf8(name).ok()?;
        if name.eq_ignore_ascii_case("content-length") {
            parsed.length = Some(value.parse().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            parsed.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case(HANDLED_HEADER) {
            parsed.handled_ns = value.parse().ok();
        } else if name.eq_ignore_ascii_case("connection") {
            if value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                parsed.close = true;
            } else if value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("keep-alive"))
            {
                parsed.close = false;
            }
        }
    }
    Some(parsed)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::{Head, parse_head};

    fn head(text: &str) -> Option<Head> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn response_heads() {
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"),
            Some(Head {
                status: 200,
                length: Some(12),
                chunked: false,
                close: false,
                handled_ns: None,
            })
        );
        let chunked = head(
            "HTTP/1.1 503 Busy\r\ntransfer-encoding: gzip, chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (chunked.status, chunked.chunked, chunked.close),
            (503, true, true)
        );
        // An emulated service's handling time, whatever the header's case.
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nX-Archbench-Handled-Ns: 1500\r\n\r\n")
                .unwrap()
                .handled_ns,
            Some(1500)
        );
        // HTTP/1.0 closes unless it asks to keep the connection.
        assert!(head("HTTP/1.0 200 OK\r\n\r\n").unwrap().close);
        assert!(
            !head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n")
                .unwrap()
                .close
        );
        assert_eq!(head("SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(head("HTTP/1.1 2x0 OK\r\n\r\n"), None);
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n"),
            None
        );
    }
}
