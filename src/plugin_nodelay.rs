//! TCP_NODELAY on Terraform's plugin connection: a workaround for `tf-provider` 0.2.2.
//!
//! Why: `tf-provider::serve` accepts Terraform's gRPC connection from a raw `TcpListenerStream`
//! it hands to tonic's `serve_with_incoming`, so tonic's own `tcp_nodelay` setting never
//! applies and Nagle's algorithm stays on. Each small HTTP/2 frame then waits for the peer's
//! delayed ACK (about 40 ms on Linux), which made a no-change plan of 300 integrations take
//! several times Terraform's own floor. `tf-provider` offers no lower-level entry point (its
//! listener, server and generated gRPC types are private), so we cannot hand it a stream of
//! our own.
//!
//! How: Linux and macOS (like the BSDs) copy TCP_NODELAY from a listening socket to every
//! connection it accepts. Terraform learns the listener's address only from the handshake
//! line the provider prints on stdout (`1|6|tcp|127.0.0.1:PORT|grpc|CERT`). [`install`] routes
//! stdout through a pipe before `serve` starts; a thread reads the handshake line, finds our
//! own socket bound to that address, sets TCP_NODELAY on it, and only then passes the line on
//! to Terraform and gives stdout back. No connection can be accepted before the option is set,
//! so there is no race. Should anything fail, the line still goes through unchanged and the
//! provider works as before (slower), with a warning in its log.
//!
//! When to drop it: once `tf-provider` sets TCP_NODELAY itself (upstream report:
//! `contributing/upstream/tf-provider-tcp-nodelay.md`), delete this module and its call in
//! `main.rs`; the benchmark (`make bench`) shows whether plans stay fast.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;

/// Where Terraform's handshake line says the plugin listens, if it is TCP.
///
/// The line is go-plugin's: `CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL|CERT`.
pub fn handshake_endpoint(line: &str) -> Option<SocketAddr> {
    let mut fields = line.trim_end().split('|');
    let _core_version = fields.next()?;
    let _protocol_version = fields.next()?;
    match (fields.next()?, fields.next()?) {
        ("tcp", address) => address.parse().ok(),
        _ => None,
    }
}

/// Passes the first line from `from` to `to`, calling `before_passing` with the endpoint the
/// line names (a TCP handshake line) before anything reaches `to`. Returns the line.
pub fn relay_handshake_line(
    from: &mut impl BufRead,
    to: &mut impl Write,
    before_passing: impl FnOnce(SocketAddr),
) -> io::Result<String> {
    let mut line = String::new();
    from.read_line(&mut line)?;
    if let Some(endpoint) = handshake_endpoint(&line) {
        before_passing(endpoint);
    }
    to.write_all(line.as_bytes())?;
    to.flush()?;
    Ok(line)
}

#[cfg(unix)]
pub use unix::install;

/// Elsewhere there is nothing to do: the handshake goes out as `tf-provider` prints it.
#[cfg(not(unix))]
pub fn install() {}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::io::{self, BufReader};
    use std::net::SocketAddr;
    use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

    use socket2::{SockRef, Type};

    use super::relay_handshake_line;

    /// Routes stdout through the handshake relay (see the module documentation). Call once,
    /// before `tf_provider::serve` prints the handshake line; failures are logged, not fatal.
    pub fn install() {
        if let Err(err) = start_relay() {
            tracing::warn!(
                error = %err,
                "cannot watch the plugin handshake: TCP_NODELAY stays off (slower plans)"
            );
        }
    }

    fn start_relay() -> io::Result<()> {
        let terraform_stdout = dup_cloexec(libc::STDOUT_FILENO)?;
        let (pipe_read, pipe_write) = pipe_cloexec()?;
        dup2(pipe_write.as_raw_fd(), libc::STDOUT_FILENO)?;
        // Only fd 1 keeps the pipe's write end open now: giving stdout back ends the pipe.
        drop(pipe_write);
        std::thread::Builder::new()
            .name("plugin-handshake".into())
            .spawn(move || {
                if let Err(err) = relay(pipe_read, terraform_stdout) {
                    tracing::warn!(error = %err, "plugin handshake relay failed");
                }
            })?;
        Ok(())
    }

    fn relay(pipe_read: OwnedFd, terraform_stdout: OwnedFd) -> io::Result<()> {
        let mut from = BufReader::new(File::from(pipe_read));
        let mut to = File::from(terraform_stdout);
        relay_handshake_line(
            &mut from,
            &mut to,
            |endpoint| match set_nodelay_on_listener(endpoint) {
                Ok(fd) => tracing::debug!(%endpoint, fd, "TCP_NODELAY set on the plugin listener"),
                Err(err) => tracing::warn!(
                    %endpoint,
                    error = %err,
                    "cannot set TCP_NODELAY on the plugin listener (slower plans)"
                ),
            },
        )?;
        // Stdout is Terraform's pipe again; pass on anything printed in the meantime.
        dup2(to.as_raw_fd(), libc::STDOUT_FILENO)?;
        io::copy(&mut from, &mut to)?;
        Ok(())
    }

    /// Sets TCP_NODELAY on this process's listening socket bound to `endpoint` (connections
    /// it accepts from then on inherit it). Returns the socket's descriptor.
    pub fn set_nodelay_on_listener(endpoint: SocketAddr) -> io::Result<RawFd> {
        for fd in open_descriptors()? {
            // SAFETY: `fd` was open when listed and is only borrowed for a few socket option
            // calls; a descriptor closed meanwhile makes them fail (EBADF), and one reused by
            // another file cannot have the listener's address, so nothing acts on it.
            let fd_ref = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = SockRef::from(&fd_ref);
            let bound_here = socket.local_addr().ok().and_then(|a| a.as_socket()) == Some(endpoint);
            // The listener has no peer; Terraform has not been told the address yet, so no
            // accepted connection can share it.
            if bound_here
                && socket.r#type().ok() == Some(Type::STREAM)
                && socket.peer_addr().is_err()
            {
                socket.set_tcp_nodelay(true)?;
                return if socket.tcp_nodelay()? {
                    Ok(fd)
                } else {
                    Err(io::Error::other("TCP_NODELAY did not stick"))
                };
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no listening socket bound to {endpoint} in this process"),
        ))
    }

    /// The descriptors open in this process (`/dev/fd` lists them on Linux and macOS).
    fn open_descriptors() -> io::Result<Vec<RawFd>> {
        let fds = std::fs::read_dir("/dev/fd")?
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        Ok(fds)
    }

    fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
        // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor, which we then own.
        let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if new < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `new` is a freshly created descriptor nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(new) })
    }

    fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        for fd in [&read, &write] {
            // SAFETY: sets the close-on-exec flag of a descriptor we own.
            if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok((read, write))
    }

    fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
        // SAFETY: dup2 atomically makes `to` refer to `from`'s file; both are valid
        // descriptors (ours, or stdout, which this module takes over on purpose).
        if unsafe { libc::dup2(from, to) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use super::unix::set_nodelay_on_listener;
    use super::*;

    #[test]
    fn reads_the_endpoint_of_a_tcp_handshake() {
        assert_eq!(
            handshake_endpoint("1|6|tcp|127.0.0.1:10123|grpc|MIIBcert\n"),
            Some("127.0.0.1:10123".parse().unwrap())
        );
        assert_eq!(
            handshake_endpoint("1|6|tcp|[::1]:10123|grpc|\n"),
            Some("[::1]:10123".parse().unwrap())
        );
        assert_eq!(handshake_endpoint("1|6|unix|/tmp/plugin42|grpc|\n"), None);
        assert_eq!(handshake_endpoint("1|6|tcp|localhost|grpc|\n"), None);
        assert_eq!(handshake_endpoint("panic: something else\n"), None);
        assert_eq!(handshake_endpoint(""), None);
    }

    #[cfg(unix)]
    mod unix {
        use super::*;
        use std::net::{TcpListener, TcpStream};
        use std::os::fd::AsRawFd;

        fn nodelay_of_next_accepted(listener: &TcpListener) -> bool {
            let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (accepted, _) = listener.accept().unwrap();
            accepted.nodelay().unwrap()
        }

        #[test]
        fn connections_accepted_after_the_listener_is_found_have_nodelay() {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let untouched = TcpListener::bind("127.0.0.1:0").unwrap();
            // The kernel's default, which is what tf-provider leaves in place.
            assert!(!nodelay_of_next_accepted(&untouched));

            let fd = set_nodelay_on_listener(listener.local_addr().unwrap()).unwrap();
            assert_eq!(fd, listener.as_raw_fd());
            // What this module relies on: the accepted socket inherits the option.
            assert!(nodelay_of_next_accepted(&listener));
            assert!(nodelay_of_next_accepted(&listener));
            assert!(!nodelay_of_next_accepted(&untouched));
        }

        #[test]
        fn an_address_nobody_here_listens_on_is_reported() {
            let port = {
                let gone = TcpListener::bind("127.0.0.1:0").unwrap();
                gone.local_addr().unwrap()
            };
            let err = set_nodelay_on_listener(port).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
        }

        /// Terraform sees the handshake line only once the listener has TCP_NODELAY.
        #[test]
        fn the_line_reaches_terraform_after_the_option_is_set() {
            struct Terraform<'l> {
                listener: &'l TcpListener,
                seen: Vec<u8>,
            }
            impl Write for Terraform<'_> {
                fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                    assert!(
                        nodelay_of_next_accepted(self.listener),
                        "the handshake line went out before TCP_NODELAY was set"
                    );
                    self.seen.extend_from_slice(buf);
                    Ok(buf.len())
                }
                fn flush(&mut self) -> io::Result<()> {
                    Ok(())
                }
            }
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let line = format!("1|6|tcp|{}|grpc|CERT\n", listener.local_addr().unwrap());
            let mut input = io::Cursor::new(format!("{line}later output\n"));
            let mut terraform = Terraform {
                listener: &listener,
                seen: Vec::new(),
            };
            let relayed = relay_handshake_line(&mut input, &mut terraform, |endpoint| {
                set_nodelay_on_listener(endpoint).unwrap();
            })
            .unwrap();
            assert_eq!(relayed, line);
            assert_eq!(String::from_utf8(terraform.seen).unwrap(), line);
        }

        #[test]
        fn a_line_that_is_not_a_tcp_handshake_passes_unchanged() {
            let mut input = io::Cursor::new("1|6|unix|/tmp/p|grpc|\n");
            let mut out = Vec::new();
            let mut called = false;
            relay_handshake_line(&mut input, &mut out, |_| called = true).unwrap();
            assert!(!called);
            assert_eq!(out, b"1|6|unix|/tmp/p|grpc|\n");
        }
    }
}
