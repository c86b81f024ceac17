//! One client connection: TCP or TLS, HTTP/1.1 with keep-alive or HTTP/2,
//! reconnecting after a failure. Failures are classified by kind.
//!
//! HTTP/1.1 is the hot path and has its own lean exchange: the request was
//! serialised once when the plan was made and is written as is; the answer
//! is read into one reused buffer and parsed just enough to find its end
//! (status line, `Content-Length`, chunked encoding, `Connection: close`).
//! HTTP/2 goes through hyper.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, pki_types::ServerName};

use super::plan::Target;
use super::sse::TokenStream;

mod http1;

use http1::Http1;
pub(super) use http1::Plain;
pub use http1::read_response;

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Nothing listens at the address.
    ConnectRefused,
    /// No answer within the timeout.
    Timeout,
    /// The connection broke (reset, closed mid-response).
    Reset,
    /// The TLS handshake failed.
    Tls,
    /// The server did not answer in the protocol asked for: HTTP/1.1 (or
    /// no HTTP at all) to an HTTP/2 request, no `h2` by ALPN, or an answer
    /// that is not HTTP/1.x.
    Protocol,
    /// Anything else.
    Other,
}

impl Failure {
    /// Every kind, in report order.
    pub const ALL: [Self; 6] = [
        Self::ConnectRefused,
        Self::Timeout,
        Self::Reset,
        Self::Tls,
        Self::Protocol,
        Self::Other,
    ];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::ConnectRefused => "connect_refused",
            Self::Timeout => "timeout",
            Self::Reset => "reset",
            Self::Tls => "tls",
            Self::Protocol => "protocol",
            Self::Other => "other",
        }
    }

    fn of_io(error: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match error.kind() {
            K::ConnectionRefused => Self::ConnectRefused,
            K::TimedOut => Self::Timeout,
            K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::NotConnected => Self::Reset,
            _ => Self::Other,
        }
    }

    fn of_hyper(error: &hyper::Error) -> Self {
        if error.is_canceled() || error.is_incomplete_message() || error.is_closed() {
            return Self::Reset;
        }
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            if let Some(io) = inner.downcast_ref::<std::io::Error>() {
                return Self::of_io(io);
            }
            source = inner.source();
        }
        // Not an I/O failure, nor a closed connection: HTTP/2 itself
        // failed, as it does when the other side does not speak it.
        Self::Protocol
    }
}

/// A response: its status and how many body bytes came back.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Body bytes read.
    pub bytes: u64,
    /// The handling time an emulated service reported in its
    /// [`HANDLED_HEADER`], in nanoseconds (HTTP/1.1 only).
    pub handled_ns: Option<u64>,
}

/// The response header in which an emulated service reports how long it
/// handled a synchronous call (from when the request had been read to when
/// its answer was ready), so the caller can take the rest of the exchange,
/// the network's own time, out of the link's modelled latency.
pub const HANDLED_HEADER: &str = "x-archbench-handled-ns";

enum Sender {
    Http1(Box<Http1>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Self::Http1(c) => c.closed || c.closed_while_idle(),
            Self::Http2(s) => s.is_closed(),
        }
    }
}

/// A request body of its own, for one request: the bytes, and the whole
/// HTTP/1.1 request that carries them.
pub struct Body {
    /// The body alone (for HTTP/2).
    pub bytes: Bytes,
    /// Request line, headers and body.
    pub http1: Vec<u8>,
}

/// A TCP or TLS byte stream.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// What a server sent, held in memory and handed out `chunk` bytes per
    /// read; writes go nowhere. For [`read_response`].
    Memory {
        input: Vec<u8>,
        at: usize,
        chunk: usize,
    },
}

impl Stream {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.write_all(bytes).await,
            Self::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Self::Memory { .. } => Ok(()),
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf).await,
            Self::Tls(s) => s.read(buf).await,
            Self::Memory { input, at, chunk } => {
                let n = (*chunk).min(buf.len()).min(input.len() - *at);
                buf[..n].copy_from_slice(&input[*at..*at + n]);
                *at += n;
                Ok(n)
            }
        }
    }
}

/// TLS settings shared by every connection of a run.
#[derive(Clone)]
pub struct Tls(Arc<ClientConfig>);

impl Tls {
    /// Trusts the Mozilla roots, or anything when `insecure`; offers `h2`
    /// by ALPN when `http2`.
    pub fn new(insecure: bool, http2: bool) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| unreachable!("ring supports the default TLS versions"));
        let mut config = if insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
                .with_no_client_auth()
        } else {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Self(Arc::new(config))
    }
}

/// A connection to each target's origin, opened on first use and again
/// after any failure.
pub struct Connection {
    /// One sender per origin (scheme, host and port) used so far.
    senders: Vec<(bool, String, Sender)>,
    http2: bool,
    tls: Tls,
    /// Requests handed to the network (written, or to HTTP/2's stream),
    /// whether or not an answer came.
    written: u64,
}

impl Connection {
    /// A connection that opens lazily.
    pub fn new(http2: bool, tls: Tls) -> Self {
        Self {
            senders: Vec::new(),
            http2,
            tls,
            written: 0,
        }
    }

    /// Requests handed to the network since the last call.
    pub fn take_written(&mut self) -> u64 {
        std::mem::take(&mut self.written)
    }

    /// The same settings with no open connection (after a timeout, when the
    /// old one may be mid-response).
    #[must_use]
    pub fn reset(self) -> Self {
        Self {
            senders: Vec::new(),
            ..self
        }
    }

    /// Sends `target`'s request and reads the whole response. On failure the
    /// connection to its origin is dropped, to be reopened for the next request.
    pub async fn send(&mut self, target: &Target) -> Result<Answer, Failure> {
        self.exchange(target, None).await
    }

    /// Sends `target`'s request with `body` instead of its own, reading the
    /// answer's body as server-sent events into `tokens` as it arrives.
    pub async fn send_streaming(
        &mut self,
        target: &Target,
        body: &Body,
        tokens: &mut TokenStream,
    ) -> Result<Answer, Failure> {
        self.exchange(target, Some((body, tokens))).await
    }

    async fn exchange(
        &mut self,
        target: &Target,
        streaming: Option<(&Body, &mut TokenStream)>,
    ) -> Result<Answer, Failure> {
        let at = self
            .senders
            .iter()
            .position(|(tls, authority, _)| *tls == target.tls && *authority == target.authority);
        let at = match at {
            Some(at) if !self.senders[at].2.is_closed() => at,
            found => {
                let sender = self.connect(target).await?;
                if let Some(at) = found {
                    self.senders[at].2 = sender;
                    at
                } else {
                    self.senders
                        .push((target.tls, target.authority.clone(), sender));
                    self.senders.len() - 1
                }
            }
        };
        let written = &mut self.written;
        let result = match (&mut self.senders[at].2, streaming) {
            (Sender::Http1(connection), None) => {
                connection
                    .exchange(
                        &target.http1_request,
                        target.method == hyper::Method::HEAD,
                        written,
                    )
                    .await
            }
            (Sender::Http1(connection), Some((body, tokens))) => {
                connection.tokens = Some(std::mem::take(tokens));
                let answer = connection.exchange(&body.http1, false, written).await;
                *tokens = connection.tokens.take().unwrap_or_default();
                answer
            }
            (Sender::Http2(sender), streaming) => {
                http2_send(sender, target, streaming, written).await
            }
        };
        if result.is_err() {
            self.senders.swap_remove(at);
        }
        result
    }

    async fn connect(&self, target: &Target) -> Result<Sender, Failure> {
        let stream = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| Failure::of_io(&e))?;
        let _ = stream.set_nodelay(true);
        let stream = if target.tls {
            let name = ServerName::try_from(target.host.clone()).map_err(|_| Failure::Tls)?;
            let stream = TlsConnector::from(Arc::clone(&self.tls.0))
                .connect(name, stream)
                .await
                .map_err(|e| match Failure::of_io(&e) {
                    Failure::Other => Failure::Tls,
                    other => other,
                })?;
            if self.http2 && stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                // Asked for HTTP/2 by ALPN; the server did not agree.
                return Err(Failure::Protocol);
            }
            Stream::Tls(Box::new(stream))
        } else {
            Stream::Tcp(stream)
        };
        if !self.http2 {
            return Ok(Sender::Http1(Box::new(Http1::new(stream))));
        }
        match stream {
            Stream::Tcp(s) => http2_handshake(TokioIo::new(s)).await,
            Stream::Tls(s) => http2_handshake(TokioIo::new(s)).await,
            Stream::Memory { .. } => unreachable!("connections are made over TCP"),
        }
    }
}

async fn http2_handshake<T>(io: TokioIo<T>) -> Result<Sender, Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .map_err(|e| Failure::of_hyper(&e))?;
    tokio::spawn(connection);
    Ok(Sender::Http2(sender))
}

/// One request over HTTP/2, through hyper.
async fn http2_send(
    sender: &mut hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    target: &Target,
    mut streaming: Option<(&Body, &mut TokenStream)>,
    written: &mut u64,
) -> Result<Answer, Failure> {
    let method = if streaming.is_some() {
        hyper::Method::POST
    } else {
        target.method.clone()
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(target.absolute_uri.clone());
    for (name, value) in &target.headers {
        if streaming.is_none() || name != hyper::header::CONTENT_TYPE {
            builder = builder.header(name, value);
        }
    }
    if streaming.is_some() {
        builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let body = streaming
        .as_ref()
        .map_or_else(|| target.body.clone(), |(body, _)| body.bytes.clone());
    let request = builder.body(Full::new(body)).map_err(|_| Failure::Other)?;
    sender.ready().await.map_err(|e| Failure::of_hyper(&e))?;
    *written += 1;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| Failure::of_hyper(&e))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::of_hyper(&e))?;
        if let Some(data) = frame.data_ref() {
            bytes += data.len() as u64;
            if let Some((_, tokens)) = &mut streaming {
                tokens.feed(data, tokio::time::Instant::now());
            }
        }
    }
    Ok(Answer {
        status,
        bytes,
        handled_ns: None,
    })
}

/// A certificate verifier that accepts any certificate, for `--insecure`
/// against self-signed test servers. Signatures are still checked.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
