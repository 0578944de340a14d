"""The function's secrets as files: at init, before its code loads, each
secret the init message carries is written to /run/secrets/<name> (a tmpfs
the worker mounts: the sandbox user's, 0700, noexec), mode 0400, and the
message lets go of the values. Names were checked by the platform; they are
checked again here, so no name can leave the directory."""

import os
import re

from .errors import RuntimeFailure

SECRETS_DIR = "/run/secrets"
_SECRET_FILE_NAME = re.compile(r"\A[a-z0-9][a-z0-9._-]{0,62}\Z")


def write_secret_files(msg):
    """Writes msg["secrets"] as files (none when absent) and removes them from msg."""
    secrets = msg.pop("secrets", None)
    _close_secrets_dir()
    if not secrets:
        return
    for name, value in secrets.items():
        if not isinstance(name, str) or not _SECRET_FILE_NAME.match(name) or not isinstance(value, str):
            raise RuntimeFailure("Runtime.InvalidSecret", 'secret file name "%s" is not valid' % str(name)[:64])
        path = "%s/%s" % (SECRETS_DIR, name)
        try:
            # O_EXCL: a sandbox is initialised once; a file already there was not the platform's.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
            try:
                os.fchmod(fd, 0o400)
                data = value.encode("utf-8")
                while data:
                    data = data[os.write(fd, data):]
            finally:
                os.close(fd)
        except OSError as err:
            raise RuntimeFailure("Runtime.SecretFilesUnavailable", "cannot write %s: %s" % (path, err.strerror or "error"))


def _close_secrets_dir():
    """Docker copies the image's mount point mode (0755) onto the tmpfs it
    mounts there, whatever the mount's own mode: the directory is the sandbox
    user's, so it is made 0700 here, before any file is in it."""
    try:
        if os.stat(SECRETS_DIR).st_uid == os.getuid():
            os.chmod(SECRETS_DIR, 0o700)
    except OSError:
        pass  # no /run/secrets (a runtime started without the mount): nothing to close
