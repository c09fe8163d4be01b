//! Client credentials in C1's format: minting Ed25519 keys and their client secrets
//! (`c1_contract::client_secret`), and the clients file holding the public halves the simulator
//! trusts.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use c1_contract::client_secret;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::files::write_atomically;
use crate::ids;

/// The public half of a client, as the simulator (and the clients file) stores it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    /// base64url (no padding) of the Ed25519 public key, as in the JWK's `x`.
    pub public_key: String,
    /// The C1 user this client acts as; connectors' `userIds` default to it.
    pub user_id: String,
    pub name: String,
}

impl ClientRecord {
    pub fn verifying_key(&self) -> Result<VerifyingKey, CredentialsError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.public_key)
            .map_err(|_| CredentialsError::BadPublicKey(self.client_id.clone()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CredentialsError::BadPublicKey(self.client_id.clone()))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| CredentialsError::BadPublicKey(self.client_id.clone()))
    }
}

/// What minting hands to the person who asked: the secret exists nowhere else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MintedCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub user_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read clients file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("clients file {path} is not a JSON array of clients: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write clients file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("client {0} has a malformed public key")]
    BadPublicKey(String),
}

/// Mints a new client: a fresh Ed25519 key, a client id `<name>-<rand>@<tenant>.conductor.one/pcc`
/// and a user id. Returns the public record and the credentials to hand out.
pub fn mint(name: &str, tenant: &str) -> (ClientRecord, MintedCredentials) {
    let signing_key = SigningKey::generate(&mut rand::rngs::OsRng);
    let name = if name.is_empty() { "sim-client" } else { name };
    let suffix = ids::random_base62(6).to_ascii_lowercase();
    let client_id = format!("{name}-{suffix}@{tenant}.conductor.one/pcc");
    let user_id = ids::new_object_id();
    let record = ClientRecord {
        client_id: client_id.clone(),
        public_key: client_secret::public_key_x(&signing_key),
        user_id: user_id.clone(),
        name: name.to_owned(),
    };
    let minted = MintedCredentials {
        client_id,
        client_secret: client_secret::encode(&signing_key),
        user_id,
    };
    (record, minted)
}

/// Reads the clients file; a missing file is an empty list.
pub fn read_clients_file(path: &Path) -> Result<Vec<ClientRecord>, CredentialsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(CredentialsError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(&text).map_err(|source| CredentialsError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// Adds `record` to the clients file (written to a temporary file, then renamed into place).
/// Concurrent appenders (e.g. parallel test setups) are serialised by a `<FILE>.lock` file.
pub fn append_to_clients_file(path: &Path, record: &ClientRecord) -> Result<(), CredentialsError> {
    let _lock = FileLock::acquire(path).map_err(|source| CredentialsError::Write {
        path: path.to_owned(),
        source,
    })?;
    let mut clients = read_clients_file(path)?;
    clients.retain(|c| c.client_id != record.client_id);
    clients.push(record.clone());
    let text = serde_json::to_string_pretty(&clients).expect("client records serialise");
    write_atomically(path, text.as_bytes()).map_err(|source| CredentialsError::Write {
        path: path.to_owned(),
        source,
    })
}

/// An exclusive `<FILE>.lock` beside a file, removed on drop. A lock older than a few seconds
/// is taken to be left over by a crashed process and taken over.
struct FileLock(PathBuf);

impl FileLock {
    fn acquire(path: &Path) -> std::io::Result<Self> {
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock_path = PathBuf::from(lock_name);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock_path)
            {
                Ok(_) => return Ok(Self(lock_path)),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    if std::time::Instant::now() >= deadline {
                        // Stale: its owner is gone. Take it over.
                        return Ok(Self(lock_path));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(err) => return Err(err),
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_secret_holds_the_key_of_the_public_half() {
        let (record, minted) = mint("tf", "acme");
        assert!(minted.client_id.ends_with("@acme.conductor.one/pcc"));
        let key = client_secret::decode(&minted.client_secret).unwrap();
        assert_eq!(key.verifying_key(), record.verifying_key().unwrap());
    }

    #[test]
    fn parallel_appends_keep_every_client() {
        let dir = std::env::temp_dir().join(format!("c1-sim-append-{}", ids::random_base62(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("clients.json");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let file = file.clone();
                std::thread::spawn(move || {
                    let (record, _) = mint("p", "sim");
                    append_to_clients_file(&file, &record).unwrap();
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(read_clients_file(&file).unwrap().len(), 8);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
