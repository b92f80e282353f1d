"""Run Debian's dovecot (IMAP + LMTP) from a config of the test's own, in a temp folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..conftest import require
from .conftest import free_port

USER = "kundenservice"
PASSWORD = "geheim"


class Dovecot:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.config = root / "dovecot.conf"
        self.mail = root / "mail"
        self.log = root / "dovecot.log"

    def write_config(self) -> None:
        for sub in ("run", "state"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.mail.mkdir(exist_ok=True)
        # dovecot refuses uid 0 for mail users: the mail folder belongs to nobody.
        shutil.chown(self.mail, "nobody", "nogroup")
        os.chmod(self.root, 0o755)
        self.config.write_text(f"""
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.mail}/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={self.mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
""")

    def start(self) -> None:
        subprocess.run(["dovecot", "-c", str(self.config)], check=True, timeout=30)
        self._wait(lambda: self._port_open(self.imap_port) and self._port_open(self.lmtp_port))

    def stop(self) -> None:
        subprocess.run(["doveadm", "-c", str(self.config), "stop"], check=False, timeout=30)
        self._wait(lambda: not self._port_open(self.imap_port))

    @staticmethod
    def _port_open(port: int) -> bool:
        import socket

        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _wait(self, ready, timeout: float = 20.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.1)
        log = self.log.read_text() if self.log.exists() else "(no log)"
        raise RuntimeError(f"dovecot did not get ready; log:\n{log[-3000:]}")


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """A started dovecot for one test; skipped locally, failed in CI when it is not installed."""
    require(
        shutil.which("dovecot") is not None,
        "dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)",
    )
    # Not under pytest's tmp_path: that is root-only, and mail is stored as nobody.
    root = Path(tempfile.mkdtemp(prefix="stammkunde-dovecot-"))
    server = Dovecot(root)
    server.write_config()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
