//! `cicd keygen`: writes a cosign key pair; the password comes from the environment only.

use std::path::{Path, PathBuf};

use crate::cli::sign::KeygenArgs;
use crate::error::{Error, Exit};
use crate::sign::keys::{self, KeyError};

pub fn run(args: &KeygenArgs) -> Result<Exit, Error> {
    let private = with_ext(&args.prefix, "key");
    let public = with_ext(&args.prefix, "pub");
    if !args.force {
        for p in [&private, &public] {
            if p.exists() {
                return Err(Error::BadInput {
                    path: p.clone(),
                    reason: "already exists; pass --force to replace it".into(),
                });
            }
        }
    }
    let password =
        keys::password_from_env().ok_or_else(|| key_error(&private, KeyError::NoPassword))?;
    let (key_pem, pub_pem) = keys::generate(&password).map_err(|e| key_error(&private, e))?;
    write_private(&private, key_pem.as_bytes())?;
    super::write_atomically(&public, pub_pem.as_bytes())?;
    super::deliver(
        None,
        format!(
            "private key written to {}\npublic key written to {}\n",
            private.display(),
            public.display()
        )
        .as_bytes(),
    )?;
    Ok(Exit::Ok)
}

pub fn key_error(path: &Path, e: KeyError) -> Error {
    Error::BadInput {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The private key is readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    super::write_atomically(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| Error::Write {
                path: path.to_path_buf(),
                source,
            },
        )?;
    }
    Ok(())
}
