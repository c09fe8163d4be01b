//! The release under test, built once per test run by `scripts/release.sh all` (what
//! `make release` runs) and signed with a throwaway GPG key; and the trees that serve it as a
//! provider registry (the provider registry protocol) or put it in a filesystem mirror.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::harness::{bins, run_dir, PROVIDER_VERSION};

pub const PROVIDER_TYPE: &str = "conductorone";

/// The files `make release` wrote, and what a registry needs to serve them.
pub struct Release {
    pub dir: PathBuf,
    pub version: String,
    /// `<os>_<arch>` of each zip in the release.
    pub platforms: Vec<String>,
    /// ASCII-armored public half of the key that signed `SHA256SUMS`.
    pub public_key: String,
    /// Its 16-digit key id, as Terraform prints it.
    pub key_id: String,
    /// A detached signature of the same `SHA256SUMS` by another key (for the wrong-signature test).
    pub impostor_signature: Vec<u8>,
    /// The binary the zips were made from (the release profile's build).
    pub binary: PathBuf,
}

impl Release {
    pub fn prefix(&self) -> String {
        format!("terraform-provider-{PROVIDER_TYPE}_{}", self.version)
    }
    pub fn zip_name(&self, platform: &str) -> String {
        format!("{}_{platform}.zip", self.prefix())
    }
    pub fn sums_name(&self) -> String {
        format!("{}_SHA256SUMS", self.prefix())
    }
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    /// The name of the binary inside each zip.
    pub fn binary_name(&self) -> String {
        format!(
            "terraform-provider-{PROVIDER_TYPE}_v{}{}",
            self.version,
            std::env::consts::EXE_SUFFIX
        )
    }
    /// The `h1:` hash Terraform records for an installed package: the Go module dirhash of the
    /// unpacked files, here the one binary under its name.
    pub fn h1(&self) -> String {
        let bytes = std::fs::read(&self.binary).expect("read the release binary");
        let line = format!("{}  {}\n", hex_sha256(&bytes), self.binary_name());
        format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(line.as_bytes()))
        )
    }
    /// The `zh:` hash of a file of the release: its SHA-256.
    pub fn zh(&self, name: &str) -> String {
        format!(
            "zh:{}",
            hex_sha256(&std::fs::read(self.file(name)).expect("read a release file"))
        )
    }
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The release, built on first use (a release-profile build of the provider: minutes the first
/// time, seconds once Cargo has it).
pub fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(build_release)
}

fn build_release() -> Release {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = run_dir().join("dist");
    let home = GnupgHome::new();
    let gnupg = &home.0;
    let gpg = |args: &[&str]| -> Vec<u8> {
        let out = Command::new("gpg")
            .env("GNUPGHOME", gnupg)
            .args(["--batch", "--yes", "--pinentry-mode", "loopback"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run gpg (make tools installs it): {e}"));
        check("gpg", args, &out);
        out.stdout
    };
    const PASSPHRASE: &str = "release test passphrase";
    let new_key = |uid: &str| -> String {
        gpg(&[
            "--passphrase",
            PASSPHRASE,
            "--quick-gen-key",
            uid,
            "rsa3072",
            "sign",
            "1d",
        ]);
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-secret-keys", uid]))
            .expect("gpg listing");
        listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| f.len() == 40))
            .unwrap_or_else(|| panic!("no fingerprint in {listing}"))
            .to_string()
    };
    let fingerprint = new_key("Release Signer <release@c1-provider.invalid>");
    let impostor = new_key("Impostor <impostor@c1-provider.invalid>");
    let secret_key = String::from_utf8(gpg(&[
        "--passphrase",
        PASSPHRASE,
        "--armor",
        "--export-secret-keys",
        &fingerprint,
    ]))
    .expect("armored key");
    let public_key =
        String::from_utf8(gpg(&["--armor", "--export", &fingerprint])).expect("armored key");

    // What `make release VERSION=...` runs, with the key as the release workflow passes it.
    let args = ["all"];
    let out = Command::new(root.join("scripts/release.sh"))
        .args(args)
        .current_dir(root)
        .env("VERSION", PROVIDER_VERSION)
        .env("DIST_DIR", &dir)
        .env("GPG_PRIVATE_KEY", &secret_key)
        .env("GPG_PASSPHRASE", PASSPHRASE)
        .env_remove("GPG_FINGERPRINT")
        .env_remove("GNUPGHOME")
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/release.sh");
    check("scripts/release.sh", &args, &out);

    let sums = dir.join(format!(
        "terraform-provider-{PROVIDER_TYPE}_{PROVIDER_VERSION}_SHA256SUMS"
    ));
    let impostor_sig = run_dir().join("impostor.sig");
    gpg(&[
        "--passphrase",
        PASSPHRASE,
        "--local-user",
        &impostor,
        "--detach-sign",
        "--output",
        &impostor_sig.to_string_lossy(),
        &sums.to_string_lossy(),
    ]);
    let impostor_signature = std::fs::read(&impostor_sig).expect("impostor signature");
    drop(home);

    let prefix = format!("terraform-provider-{PROVIDER_TYPE}_{PROVIDER_VERSION}_");
    let mut platforms: Vec<String> = std::fs::read_dir(&dir)
        .expect("read the release folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            Some(
                name.strip_prefix(&prefix)?
                    .strip_suffix(".zip")?
                    .to_string(),
            )
        })
        .collect();
    platforms.sort();
    let target = bins()
        .provider
        .parent()
        .and_then(Path::parent)
        .expect("target folder");
    Release {
        dir,
        version: PROVIDER_VERSION.to_string(),
        platforms,
        public_key,
        key_id: fingerprint[24..].to_string(),
        impostor_signature,
        binary: target.join("release").join(format!(
            "terraform-provider-{PROVIDER_TYPE}{}",
            std::env::consts::EXE_SUFFIX
        )),
    }
}

/// A throwaway GnuPG home; dropping it stops the gpg-agent that gpg started for it and
/// removes it (also when the build fails).
struct GnupgHome(PathBuf);

impl GnupgHome {
    fn new() -> GnupgHome {
        // A short path: gpg-agent's socket lives in it.
        let path = std::env::temp_dir().join(format!("c1-gpg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("GNUPGHOME");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
                .expect("chmod GNUPGHOME");
        }
        GnupgHome(path)
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.0)
            .args(["--kill", "gpg-agent"])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[track_caller]
fn check(what: &str, args: &[&str], out: &Output) {
    assert!(
        out.status.success(),
        "{what} {} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        args.iter()
            .map(|a| if a.len() > 200 { "<long>" } else { a })
            .collect::<Vec<_>>()
            .join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How a served registry departs from the release as built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// The zip's bytes are changed; everything else is the release's.
    Zip,
    /// The zip is changed and `SHA256SUMS` (and the download's `shasum`) rewritten to match it:
    /// only the signature still speaks for the original.
    ZipAndSums,
    /// `SHA256SUMS` is signed by a key the registry does not list.
    ForeignSignature,
}

/// Writes, under `root`, the provider registry protocol for `<namespace>/conductorone` serving
/// the release: service discovery (`/.well-known/terraform.json`), the versions list, one
/// download document per platform (download, shasums and signature URLs, the signing key) and
/// the release files themselves under `/files/<namespace>/`.
pub fn write_registry(root: &Path, namespace: &str, rel: &Release, tamper: Tamper) {
    let write = |path: &str, bytes: &[u8]| {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).expect("registry folder");
        std::fs::write(p, bytes).expect("registry file");
    };
    write(
        ".well-known/terraform.json",
        json!({"providers.v1": "/v1/providers/"})
            .to_string()
            .as_bytes(),
    );
    let files = format!("files/{namespace}");
    let sums_name = rel.sums_name();
    let mut sums = std::fs::read_to_string(rel.file(&sums_name)).expect("SHA256SUMS");
    let mut signature = std::fs::read(rel.file(&format!("{sums_name}.sig"))).expect("signature");
    let mut shasums = std::collections::BTreeMap::new();
    for platform in &rel.platforms {
        let name = rel.zip_name(platform);
        let mut zip = std::fs::read(rel.file(&name)).expect("zip");
        let original = hex_sha256(&zip);
        if tamper != Tamper::None && tamper != Tamper::ForeignSignature {
            // A changed byte inside the binary's compressed data.
            let at = zip.len() / 2;
            zip[at] ^= 0xff;
        }
        let served = hex_sha256(&zip);
        if tamper == Tamper::ZipAndSums {
            sums = sums.replace(&original, &served);
        }
        shasums.insert(
            platform.clone(),
            if tamper == Tamper::Zip {
                original
            } else {
                served
            },
        );
        write(&format!("{files}/{name}"), &zip);
    }
    if tamper == Tamper::ForeignSignature {
        signature = rel.impostor_signature.clone();
    }
    write(&format!("{files}/{sums_name}"), sums.as_bytes());
    write(&format!("{files}/{sums_name}.sig"), &signature);

    let provider = format!("v1/providers/{namespace}/{PROVIDER_TYPE}");
    let platforms: Vec<_> = rel
        .platforms
        .iter()
        .map(|p| {
            let (os, arch) = p.split_once('_').expect("os_arch");
            json!({"os": os, "arch": arch})
        })
        .collect();
    write(
        &format!("{provider}/versions"),
        json!({"versions": [{"version": rel.version, "protocols": ["6.0"], "platforms": platforms}]})
            .to_string()
            .as_bytes(),
    );
    for platform in &rel.platforms {
        let (os, arch) = platform.split_once('_').expect("os_arch");
        let name = rel.zip_name(platform);
        let download = json!({
            "protocols": ["6.0"],
            "os": os,
            "arch": arch,
            "filename": name,
            "download_url": format!("/{files}/{name}"),
            "shasums_url": format!("/{files}/{sums_name}"),
            "shasums_signature_url": format!("/{files}/{sums_name}.sig"),
            "shasum": shasums[platform],
            "signing_keys": {"gpg_public_keys": [{
                "key_id": rel.key_id,
                "ascii_armor": rel.public_key,
                "trust_signature": "",
                "source": "",
                "source_url": null,
            }]},
        });
        write(
            &format!("{provider}/{}/download/{os}/{arch}", rel.version),
            download.to_string().as_bytes(),
        );
    }
}

/// A filesystem mirror (packed layout) holding the release's zips for `hostname/namespace`, as
/// a company copies them in: `<mirror>/<hostname>/<namespace>/conductorone/<zip>`.
pub fn write_filesystem_mirror(mirror: &Path, address: &str, rel: &Release) {
    let dir = mirror.join(address);
    std::fs::create_dir_all(&dir).expect("mirror folder");
    for platform in &rel.platforms {
        let name = rel.zip_name(platform);
        std::fs::copy(rel.file(&name), dir.join(&name)).expect("copy the zip");
    }
}
