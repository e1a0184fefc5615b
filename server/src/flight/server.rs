//! Serving the Flight service: bearer-token check on every call, optional
//! TLS (rustls), and a graceful stop when the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic::{Request, Status};

use super::service::ScryFlightService;

/// How the server authenticates and encrypts.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Required as `authorization: Bearer <token>` on every call.
    pub token: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl ServeOptions {
    /// Listening beyond loopback without a token or TLS would hand every
    /// process' traffic to anyone on the network: refuse it.
    pub fn check_exposure(&self, addr: &SocketAddr) -> Result<()> {
        if !addr.ip().is_loopback() && self.token.is_none() && self.tls_cert.is_none() {
            anyhow::bail!(
                "refusing to serve traced traffic on {addr} without --token or --tls-cert/--tls-key; \
                 add one, or listen on 127.0.0.1"
            );
        }
        Ok(())
    }
}

/// Compare without stopping at the first differing byte, so response time
/// does not reveal how much of a guessed token was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_token(expected: &Option<String>, req: &Request<()>) -> Result<(), Status> {
    let Some(token) = expected else {
        return Ok(());
    };
    let given = req
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    match given {
        Some(g) if same_secret(g.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(Status::unauthenticated("wrong bearer token")),
        None => Err(Status::unauthenticated(
            "this agent requires `authorization: Bearer <token>`",
        )),
    }
}

/// Serve `service` on `listener` until `shutdown` resolves; calls in flight
/// finish before this returns.
pub async fn serve(
    listener: TcpListener,
    service: ScryFlightService,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let token = options.token.clone();
    let server = FlightServiceServer::new(service)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let svc = InterceptedService::new(server, move |req: Request<()>| {
        check_token(&token, &req)?;
        Ok(req)
    });
    let mut builder = Server::builder();
    if let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) {
        let cert_pem = std::fs::read(cert)
            .with_context(|| format!("reading --tls-cert {}", cert.display()))?;
        let key_pem =
            std::fs::read(key).with_context(|| format!("reading --tls-key {}", key.display()))?;
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert_pem, key_pem)))
            .context("the TLS certificate or key is not usable PEM")?;
    }
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    builder
        .add_service(svc)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .context("the Flight server stopped with an error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_needs_a_token_or_tls() {
        let open = ServeOptions::default();
        assert!(open.check_exposure(&"127.0.0.1:1".parse().unwrap()).is_ok());
        let e = open
            .check_exposure(&"0.0.0.0:7070".parse().unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("--token"));
        let with_token = ServeOptions {
            token: Some("t".into()),
            ..ServeOptions::default()
        };
        assert!(with_token
            .check_exposure(&"0.0.0.0:7070".parse().unwrap())
            .is_ok());
    }

    #[test]
    fn tokens_compare_whole() {
        let mut req = Request::new(());
        let expected = Some("s3cret".to_string());
        assert!(check_token(&expected, &req).is_err());
        req.metadata_mut()
            .insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(check_token(&expected, &req).is_ok());
        req.metadata_mut()
            .insert("authorization", "Bearer s3cre".parse().unwrap());
        assert_eq!(
            check_token(&expected, &req).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
    }
}
