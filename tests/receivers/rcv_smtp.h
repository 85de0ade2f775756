//  Test receivers: an SMTP server (Debian's python3-aiosmtpd, its Mailbox handler) on loopback;
//  messages read back from its Maildir.
#ifndef RCV_SMTP_H_INCLUDED
#define RCV_SMTP_H_INCLUDED

#include "rcv_proc.h"

//  The Python that has aiosmtpd ($JOBD_PYTHON, or Debian's /usr/bin/python3), or NULL when
//  absent (or aiosmtpd is not installed for it).
const char *rcv_smtp_python (void);

//  Starts `python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Mailbox DIR/mail` on
//  a free port and waits until the port accepts, up to timeout_ms. With user and password
//  (both or neither), the same server through rcv_smtp_auth.py instead, requiring that login
//  (AUTH PLAIN or LOGIN, no TLS). Returns 0 with self->url "smtp://127.0.0.1:PORT", or -1
//  (self stopped, the log's end printed).
int rcv_smtp_start (rcv_proc_t *self, const char *user, const char *password, int timeout_ms);

//  Messages in the Maildir now.
size_t rcv_smtp_count (rcv_proc_t *self);

//  Waits up to timeout_ms for a message that contains text; returns it (fresh, as stored:
//  headers, a blank line, the body; aiosmtpd adds X-Peer, X-MailFrom and X-RcptTo), or NULL.
char *rcv_smtp_find (rcv_proc_t *self, const char *text, int timeout_ms);

//  The value of header name in message (the first, unfolded, without its CRLF), fresh, or NULL.
char *rcv_smtp_header (const char *message, const char *name);

//  The body of message (after the first blank line), borrowed from message, or NULL.
const char *rcv_smtp_body (const char *message);

#endif
