//! wss:// and https://: the desktop backend reaches a hub behind TLS (as a production Rails app
//! is), through the platform's TLS stack and trust store. A test CA is trusted through
//! `SSL_CERT_FILE`, so this test runs in its own process.

use std::net::SocketAddr;
use std::time::Duration;

use pressroom_client::cable::Mode;
use pressroom_hub::domain::{BookRef, NewJobOrder};
use pressroom_testkit::client::Client;
use pressroom_testkit::TestHub;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tokio::net::TcpListener;
use tokio_native_tls::native_tls;

/// A TLS front for `upstream` on a free loopback port, serving a certificate for `localhost`
/// signed by a fresh CA; returns its address and the CA's PEM.
async fn tls_front(upstream: SocketAddr) -> (SocketAddr, String, tokio::task::JoinHandle<()>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: a leaf whose subject equals its issuer reads as self-signed.
    ca.distinguished_name.push(DnType::CommonName, "Pressroom test CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = leaf.signed_by(&key, &ca, &ca_key).unwrap();
    let identity =
        native_tls::Identity::from_pkcs8(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let acceptor = tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut hub) = tokio::net::TcpStream::connect(upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut hub).await;
            });
        }
    });
    (addr, ca.pem(), serving)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_goes_live_over_wss_and_https() {
    let hub = TestHub::start().await;
    let (front, ca, serving) = tls_front(hub.hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    // OpenSSL reads it when the first TLS context is made; nothing else in this process uses TLS.
    std::env::set_var("SSL_CERT_FILE", &ca_file);

    let order = |customer: &str| NewJobOrder {
        book: BookRef::Title("Secure".into()),
        customer: customer.into(),
        quantity: 1,
        due_date: None,
    };
    hub.hub.domain.create_job_order(order("before")).await.unwrap();
    let url = format!("wss://localhost:{}/cable", front.port());
    let mut client = Client::start(&url, None, Mode { auto_refresh: false, ..Mode::default() });
    client.wait_live(Duration::from_secs(20)).await;
    // The summary came over https; a live one over wss.
    client.wait_dashboard("the summary", Duration::from_secs(10), |s| s.totals.job_orders == 1).await;
    hub.hub.domain.create_job_order(order("live")).await.unwrap();
    client.wait_dashboard("the live order", Duration::from_secs(10), |s| s.totals.job_orders == 2).await;
    serving.abort();
    hub.stop().await;
}
