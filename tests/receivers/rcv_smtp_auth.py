# aiosmtpd with a login (AUTH PLAIN and LOGIN, required, over plain text on loopback), for the
# email channel's login tests: aiosmtpd's command line has no option for it.
# Usage: rcv_smtp_auth.py HOST PORT MAILDIR USER PASSWORD
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

host, port, maildir, user, password = sys.argv[1:6]


def authenticate(server, session, envelope, mechanism, data):
    good = (isinstance(data, LoginPassword) and data.login.decode() == user
            and data.password.decode() == password)
    return AuthResult(success=good, handled=False)


controller = Controller(Mailbox(maildir), hostname=host, port=int(port),
                        authenticator=authenticate, auth_required=True,
                        auth_require_tls=False)
controller.start()
print("listening", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
