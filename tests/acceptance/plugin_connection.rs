//! The plugin connection: the built provider, started with Terraform's handshake environment as
//! Terraform starts it, answers with a TCP handshake line and the connection it then accepts
//! has TCP_NODELAY (see src/plugin_nodelay.rs; without it every small gRPC frame can wait
//! ~40 ms for a delayed ACK).

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

use crate::harness::*;

/// The provider process, killed when the test ends however it ends.
struct Plugin(Child);

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn accepted_plugin_connection_has_tcp_nodelay() {
    let mut plugin = Plugin(
        Command::new(&bins().provider)
            // What go-plugin sets for Terraform (the magic cookie is Terraform's constant).
            .env(
                "TF_PLUGIN_MAGIC_COOKIE",
                "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
            )
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("TF_LOG_PROVIDER", "debug")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the provider"),
    );
    let mut stdout = BufReader::new(plugin.0.stdout.take().unwrap());
    let mut handshake = String::new();
    stdout.read_line(&mut handshake).unwrap();
    let fields: Vec<&str> = handshake.trim_end().split('|').collect();
    assert_eq!(fields[..3], ["1", "6", "tcp"], "handshake: {handshake:?}");
    assert_eq!(fields[4], "grpc", "handshake: {handshake:?}");
    let endpoint: SocketAddr = fields[3].parse().expect("handshake address");

    let client = TcpStream::connect(endpoint).expect("connect to the plugin");
    #[cfg(target_os = "linux")]
    linux::assert_accepted_socket_has_nodelay(plugin.0.id(), client.local_addr().unwrap());

    drop(client);
    let _ = plugin.0.kill();
    let mut stderr = String::new();
    plugin
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let set_on_listener = stderr.lines().any(|line| {
        line.contains("TCP_NODELAY set on the plugin listener")
            && line.contains(&format!("\"endpoint\":\"{endpoint}\""))
    });
    assert!(
        set_on_listener,
        "no 'TCP_NODELAY set on the plugin listener' for {endpoint} in the provider's log:\n{stderr}"
    );
}

/// On Linux the test looks at the provider's own accepted socket: pidfd_getfd(2) lends the
/// test a copy of the descriptor, whose options are the socket's.
#[cfg(target_os = "linux")]
mod linux {
    use std::net::SocketAddr;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::time::{Duration, Instant};

    use socket2::SockRef;

    fn syscall_fd(result: libc::c_long) -> std::io::Result<OwnedFd> {
        if result < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the system call just created this descriptor for us.
        Ok(unsafe { OwnedFd::from_raw_fd(result as RawFd) })
    }

    pub fn assert_accepted_socket_has_nodelay(pid: u32, client: SocketAddr) {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let pidfd = match syscall_fd(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) }) {
            Ok(fd) => fd,
            Err(err) => {
                eprintln!("plugin_connection: pidfd_open unavailable ({err}); checked the provider's log only");
                return;
            }
        };
        // The provider accepts asynchronously: wait until the accepted socket exists.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut refused = None;
            for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
                let Some(fd) = entry
                    .ok()
                    .and_then(|e| e.file_name().to_str()?.parse::<RawFd>().ok())
                else {
                    continue;
                };
                // SAFETY: pidfd_getfd returns a new descriptor (a copy) or -1.
                let copy =
                    unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
                let copy = match syscall_fd(copy) {
                    Ok(copy) => copy,
                    Err(err) if matches!(err.raw_os_error(), Some(libc::EPERM | libc::ENOSYS)) => {
                        refused = Some(err);
                        break;
                    }
                    Err(_) => continue, // closed meanwhile
                };
                let socket = SockRef::from(&copy);
                if socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(client) {
                    assert!(
                        socket.tcp_nodelay().unwrap(),
                        "the provider's accepted plugin connection (fd {fd}) has TCP_NODELAY off"
                    );
                    return;
                }
            }
            if let Some(err) = refused {
                eprintln!("plugin_connection: pidfd_getfd refused ({err}); checked the provider's log only");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the provider never accepted the connection from {client}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
