//! One client connection: TCP or TLS, HTTP/1.1 with keep-alive or HTTP/2,
//! reconnecting after a failure. Failures are classified by kind.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper::header::HOST;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, pki_types::ServerName};

use super::plan::Target;

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
    /// Anything else.
    Other,
}

impl Failure {
    /// Every kind, in report order.
    pub const ALL: [Self; 5] = [
        Self::ConnectRefused,
        Self::Timeout,
        Self::Reset,
        Self::Tls,
        Self::Other,
    ];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::ConnectRefused => "connect_refused",
            Self::Timeout => "timeout",
            Self::Reset => "reset",
            Self::Tls => "tls",
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
        Self::Other
    }
}

/// A response: its status and how many body bytes came back.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Body bytes read.
    pub bytes: u64,
}

enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
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

/// A connection to one target's host, opened on first use and again after
/// any failure.
pub struct Connection {
    sender: Option<Sender>,
    http2: bool,
    tls: Tls,
}

impl Connection {
    /// A connection that opens lazily.
    pub fn new(http2: bool, tls: Tls) -> Self {
        Self {
            sender: None,
            http2,
            tls,
        }
    }

    /// The same settings with no open connection (after a timeout, when the
    /// old one may be mid-response).
    #[must_use]
    pub fn reset(self) -> Self {
        Self {
            sender: None,
            ..self
        }
    }

    /// Sends `target`'s request and reads the whole response. On failure the
    /// connection is dropped, to be reopened for the next request.
    pub async fn send(&mut self, target: &Target) -> Result<Answer, Failure> {
        let result = self.try_send(target).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(&mut self, target: &Target) -> Result<Answer, Failure> {
        if self.sender.as_ref().is_none_or(|s| match s {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }) {
            self.sender = Some(self.connect(target).await?);
        }
        let uri = if self.http2 {
            target.absolute_uri.clone()
        } else {
            target.origin_uri.clone()
        };
        let mut builder = Request::builder().method(target.method.clone()).uri(uri);
        if !self.http2 {
            builder = builder.header(HOST, &target.authority);
        }
        for (name, value) in &target.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(target.body.clone()))
            .map_err(|_| Failure::Other)?;
        let response = match self.sender.as_mut() {
            Some(Sender::Http1(s)) => {
                s.ready().await.map_err(|e| Failure::of_hyper(&e))?;
                s.send_request(request).await
            }
            Some(Sender::Http2(s)) => {
                s.ready().await.map_err(|e| Failure::of_hyper(&e))?;
                s.send_request(request).await
            }
            None => return Err(Failure::Other),
        }
        .map_err(|e| Failure::of_hyper(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failure::of_hyper(&e))?;
            if let Some(data) = frame.data_ref() {
                bytes += data.len() as u64;
            }
        }
        Ok(Answer { status, bytes })
    }

    async fn connect(&self, target: &Target) -> Result<Sender, Failure> {
        let stream = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| Failure::of_io(&e))?;
        let _ = stream.set_nodelay(true);
        if target.tls {
            let name = ServerName::try_from(target.host.clone()).map_err(|_| Failure::Tls)?;
            let stream = TlsConnector::from(Arc::clone(&self.tls.0))
                .connect(name, stream)
                .await
                .map_err(|e| match Failure::of_io(&e) {
                    Failure::Other => Failure::Tls,
                    other => other,
                })?;
            self.handshake(TokioIo::new(stream)).await
        } else {
            self.handshake(TokioIo::new(stream)).await
        }
    }

    async fn handshake<T>(&self, io: TokioIo<T>) -> Result<Sender, Failure>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        if self.http2 {
            let (sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .map_err(|e| Failure::of_hyper(&e))?;
            tokio::spawn(connection);
            Ok(Sender::Http2(sender))
        } else {
            let (sender, connection) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|e| Failure::of_hyper(&e))?;
            tokio::spawn(connection);
            Ok(Sender::Http1(sender))
        }
    }
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
