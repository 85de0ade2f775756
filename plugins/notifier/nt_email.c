//  notifier: the email channel. One plain-text message per note over SMTP with libcurl
//  (STARTTLS, login): the note's subject as Subject (an RFC 2047 encoded-word when it is not
//  ASCII), its text as the body (quoted-printable when it is not ASCII: curl cannot ask the
//  server for 8BITMIME), a Message-ID made of the note's key so that a message sent again after
//  a crash is the same message, and a References to the job so that mail clients thread a
//  job's messages together.
#include "nt_send.h"

#define S_RCPT_MAX 32

typedef struct {
    char *url;               //  smtp://host:port or smtps://
    char *shown;             //  url without user info, for errors
    char *from;              //  the From header as configured ("jobd <jobd@example.com>")
    char *from_address;      //  its address, for MAIL FROM
    char *to;                //  the To header: the addresses, comma separated
    struct curl_slist *rcpt; //  "<address>" each, for RCPT TO
    char *user;              //  login, or NULL
    char *password;          //  login (a secret), or NULL
    long use_ssl;            //  CURLUSESSL_TRY, _ALL (require) or _NONE (off)
    long timeout;            //  ms
    CURL *curl;
} s_state_t;

static void s_close (void **state_p);

//  The address of a mailbox written "addr@host" or "Name <addr@host>": fresh, or NULL when it
//  is not one (no @, spaces or control characters in the address, CR or LF anywhere).
static char *
s_address (const char *text, size_t length)
{
    while (length && isspace ((unsigned char)*text))
        text++, length--;
    while (length && isspace ((unsigned char)text[length - 1]))
        length--;
    const char *open = memchr (text, '<', length);
    if (open) {
        const char *close = memchr (open, '>', length - (size_t)(open - text));
        if (!close || close != text + length - 1)
            return NULL;
        length = (size_t)(close - open - 1);
        text = open + 1;
    }
    if (length == 0 || !memchr (text, '@', length))
        return NULL;
    for (size_t index = 0; index < length; index++)
        if ((unsigned char)text[index] <= ' ' || strchr ("<>,\"\x7f", text[index]))
            return NULL;
    return strndup (text, length);
}

//  Reads from and to. Returns 0 or JOBD_ECONFIG with the reason.
static int
s_open_addresses (s_state_t *self, const nt_config_t *config, char *reason, size_t reason_size)
{
    const char *from = nt_config_str (config, "from");
    if (!from || strpbrk (from, "\r\n") ||
        !(self->from_address = s_address (from, strlen (from)))) {
        snprintf (reason, reason_size,
                  "channels/%s/from: a sender address is required (\"jobd@example.com\" or "
                  "\"jobd <jobd@example.com>\")",
                  config->name);
        return JOBD_ECONFIG;
    }
    self->from = strdup (from);
    const char *to = nt_config_str (config, "to");
    size_t count = 0;
    for (const char *cursor = to; cursor && *cursor;) {
        size_t length = strcspn (cursor, ",");
        char *address = s_address (cursor, length);
        char rcpt[512];
        if (address)
            snprintf (rcpt, sizeof rcpt, "<%s>", address);
        size_t blanks = strspn (cursor, " \t");
        if (blanks < length && (!address || count == S_RCPT_MAX)) {
            size_t shown = length - blanks;
            while (shown && isspace ((unsigned char)cursor[blanks + shown - 1]))
                shown--;
            snprintf (reason, reason_size, "channels/%s/to: '%.*s': %s", config->name,
                      (int)(shown > 64 ? 64 : shown), cursor + blanks,
                      address ? "more than 32 recipients" : "not an address");
            free (address);
            return JOBD_ECONFIG;
        }
        if (address) {
            struct curl_slist *more = curl_slist_append (self->rcpt, rcpt);
            size_t used = self->to ? strlen (self->to) : 0;
            //  One address per line after the first (folded: ",CRLF SP"), so that 32 long
            //  addresses never make a header line past RFC 5322's 998 characters.
            char *bigger = realloc (self->to, used + strlen (address) + 5);
            if (more)
                self->rcpt = more;
            if (bigger)
                self->to = bigger;
            if (!more || !bigger) {
                free (address);
                return -ENOMEM;
            }
            snprintf (self->to + used, strlen (address) + 5, "%s%s", used ? ",\r\n " : "", address);
            count++;
        }
        free (address);
        cursor += length + (cursor[length] ? 1 : 0);
    }
    if (count == 0) {
        snprintf (reason, reason_size, "channels/%s/to: one or more recipients are required",
                  config->name);
        return JOBD_ECONFIG;
    }
    return self->from ? 0 : -ENOMEM;
}

//  Reads starttls, username, password and timeout. Returns 0 or JOBD_ECONFIG.
static int
s_open_session (s_state_t *self, const nt_config_t *config, char *reason, size_t reason_size)
{
    const char *starttls = nt_config_str (config, "starttls");
    if (!starttls || strcmp (starttls, "try") == 0)
        self->use_ssl = CURLUSESSL_TRY;
    else if (strcmp (starttls, "require") == 0)
        self->use_ssl = CURLUSESSL_ALL;
    else if (strcmp (starttls, "off") == 0)
        self->use_ssl = CURLUSESSL_NONE;
    else {
        snprintf (reason, reason_size, "channels/%s/starttls: '%.32s': try, require or off",
                  config->name, starttls);
        return JOBD_ECONFIG;
    }
    int rc = nt_config_secret (config, "password", &self->password, reason, reason_size);
    const char *user = nt_config_str (config, "username");
    if (rc == 0 && user && *user && !(self->user = strdup (user)))
        rc = -ENOMEM;
    if (rc == 0 && (self->user != NULL) != (self->password != NULL)) {
        snprintf (reason, reason_size, "channels/%s/%s: login needs both username and password",
                  config->name, self->user ? "password" : "username");
        rc = JOBD_ECONFIG;
    }
    if (rc == 0)
        rc = nt_send_timeout (config, &self->timeout, reason, reason_size);
    return rc;
}

static int
s_open (const nt_config_t *config, void **state_p, char *reason, size_t reason_size)
{
    *state_p = NULL;
    const char *url = nt_config_str (config, "url");
    if (!url || (strncmp (url, "smtp://", 7) && strncmp (url, "smtps://", 8))) {
        snprintf (reason, reason_size,
                  "channels/%s/url: the SMTP server is required (smtp://host:port, or smtps:// "
                  "for TLS from the start)",
                  config->name);
        return JOBD_ECONFIG;
    }
    s_state_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    void *state = self;
    char shown[512];
    self->url = strdup (url);
    self->shown = strdup (nt_send_shown_url (url, shown, sizeof shown));
    int rc = self->url && self->shown ? 0 : -ENOMEM;
    if (rc == 0)
        rc = s_open_addresses (self, config, reason, reason_size);
    if (rc == 0)
        rc = s_open_session (self, config, reason, reason_size);
    if (rc == 0)
        rc = nt_send_curl_new (&self->curl);
    if (rc) {
        s_close (&state);
        return rc;
    }
    *state_p = self;
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  The message

static bool
s_ascii (const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text >= 0x80)
            return false;
    return true;
}

//  The header `Subject: ` with subject on one line (control characters as spaces): as is when
//  ASCII and short, else RFC 2047 encoded-words (UTF-8, base64) of at most 75 characters, cut
//  at character boundaries, on folded lines.
static void
s_put_subject (nt_send_text_t *text, const char *subject)
{
    char *line = strdup (subject ? subject : "");
    if (!line) {
        text->failed = true;
        return;
    }
    for (char *cursor = line; *cursor; cursor++)
        if ((unsigned char)*cursor < 0x20 || *cursor == 0x7f)
            *cursor = ' ';
    nt_send_puts (text, "Subject: ");
    size_t length = strlen (line);
    if (s_ascii (line) && length <= 900) {
        nt_send_puts (text, line);
        nt_send_puts (text, "\r\n");
        free (line);
        return;
    }
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    //  "=?UTF-8?B?" + 52 base64 characters (39 bytes) + "?=": 64 characters per word, the
    //  first line ("Subject: " and a word) within 78.
    for (size_t start = 0; start < length;) {
        size_t end = start + 39 < length ? start + 39 : length;
        while (end < length && end > start && ((unsigned char)line[end] & 0xC0) == 0x80)
            end--; //  never cut a character: back to its first byte
        if (end == start)
            end = start + 1;
        nt_send_puts (text, start ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
        for (size_t index = start; index < end; index += 3) {
            unsigned char in[3] = {0, 0, 0};
            size_t got = end - index < 3 ? end - index : 3;
            memcpy (in, line + index, got);
            char out[4] = {alphabet[in[0] >> 2], alphabet[((in[0] & 3) << 4) | (in[1] >> 4)],
                           got > 1 ? alphabet[((in[1] & 15) << 2) | (in[2] >> 6)] : '=',
                           got > 2 ? alphabet[in[2] & 63] : '='};
            nt_send_put (text, out, 4);
        }
        nt_send_puts (text, "?=");
        start = end;
    }
    nt_send_puts (text, "\r\n");
    free (line);
}

//  key as a Message-ID's left part: bytes outside [A-Za-z0-9._-] percent-encoded (nt_channel.h).
static void
s_put_id (nt_send_text_t *text, const char *key)
{
    nt_send_puts (text, "<");
    for (const char *cursor = key ? key : ""; *cursor; cursor++) {
        char byte[4];
        if (isalnum ((unsigned char)*cursor) || strchr ("._-", *cursor))
            snprintf (byte, sizeof byte, "%c", *cursor);
        else
            snprintf (byte, sizeof byte, "%%%02X", (unsigned char)*cursor);
        nt_send_puts (text, byte);
    }
    nt_send_puts (text, "@jobd>");
}

//  ms as an RFC 5322 date in UTC ("Fri, 04 Dec 2026 04:23:39 +0000"), whatever the locale.
static const char *
s_date (int64_t ms, char *buffer, size_t size)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    snprintf (buffer, size, "%s, %02d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
              months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buffer;
}

//  Does any line of body run past 998 bytes (RFC 5322's limit)?
static bool
s_long_lines (const char *body)
{
    while (*body) {
        size_t length = strcspn (body, "\n");
        if (length > 998)
            return true;
        body += length + (body[length] ? 1 : 0);
    }
    return false;
}

//  body, lines ended with CRLF, quoted-printable (RFC 2045: '=' and bytes outside printable
//  ASCII as =XX, a space or tab ending a line too, soft breaks keeping lines within 76).
static void
s_put_quoted (nt_send_text_t *text, const char *body)
{
    size_t column = 0;
    for (const char *cursor = body; *cursor; cursor++) {
        unsigned char byte = (unsigned char)*cursor;
        if (byte == '\r' && cursor[1] == '\n')
            continue;
        if (byte == '\n') {
            nt_send_puts (text, "\r\n");
            column = 0;
            continue;
        }
        bool line_end =
            cursor[1] == '\n' || cursor[1] == 0 || (cursor[1] == '\r' && cursor[2] == '\n');
        char out[4];
        if ((byte >= 33 && byte <= 126 && byte != '=') ||
            ((byte == ' ' || byte == '\t') && !line_end))
            snprintf (out, sizeof out, "%c", byte);
        else
            snprintf (out, sizeof out, "=%02X", byte);
        if (column + strlen (out) > 75) {
            nt_send_puts (text, "=\r\n");
            column = 0;
        }
        nt_send_puts (text, out);
        column += strlen (out);
    }
}

//  body, lines ended with CRLF, as is (ASCII with short lines).
static void
s_put_plain (nt_send_text_t *text, const char *body)
{
    for (const char *cursor = body; *cursor; cursor++) {
        if (*cursor == '\r' && cursor[1] == '\n')
            continue;
        nt_send_put (text, *cursor == '\n' ? "\r\n" : cursor, *cursor == '\n' ? 2 : 1);
    }
}

//  The whole message of note, CRLF throughout. Fresh in text->data, or text->failed.
static void
s_message (s_state_t *self, const nt_note_t *note, nt_send_text_t *text)
{
    char line[1200];
    nt_send_puts (text, "Date: ");
    nt_send_puts (text, s_date (note->ts > 0 ? note->ts : nt_send_now (), line, sizeof line));
    nt_send_puts (text, "\r\nFrom: ");
    nt_send_puts (text, self->from);
    nt_send_puts (text, "\r\nTo: ");
    nt_send_puts (text, self->to);
    nt_send_puts (text, "\r\n");
    s_put_subject (text, note->subject);
    nt_send_puts (text, "Message-ID: ");
    s_put_id (text, note->key);
    nt_send_puts (text, "\r\n");
    if (note->job && *note->job) {
        //  Every message about one job refers to the same (never sent) root: clients thread
        //  them together.
        char job[300];
        snprintf (job, sizeof job, "job/%s", note->job);
        nt_send_puts (text, "References: ");
        s_put_id (text, job);
        nt_send_puts (text, "\r\n");
    }
    const char *body = note->text ? note->text : "";
    bool plain = s_ascii (body) && !s_long_lines (body);
    nt_send_puts (text, "MIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=UTF-8\r\n"
                        "Auto-Submitted: auto-generated\r\n");
    nt_send_puts (text, plain ? "Content-Transfer-Encoding: 7bit\r\n\r\n"
                              : "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    if (plain)
        s_put_plain (text, body);
    else
        s_put_quoted (text, body);
    if (text->size < 2 || strcmp (text->data + text->size - 2, "\r\n"))
        nt_send_puts (text, "\r\n");
}

//  ---------------------------------------------------------------------------------------------
//  Sending

typedef struct {
    const char *data;
    size_t size, sent;
} s_upload_t;

static size_t
s_read (char *buffer, size_t size, size_t count, void *arg)
{
    s_upload_t *upload = arg;
    size_t length = upload->size - upload->sent;
    if (length > size * count)
        length = size * count;
    memcpy (buffer, upload->data + upload->sent, length);
    upload->sent += length;
    return length;
}

//  Removes every copy of secret from text (a server may echo what it was sent).
static void
s_scrub (char *text, const char *secret)
{
    size_t length = secret ? strlen (secret) : 0;
    char *found;
    while (length && (found = strstr (text, secret)))
        memset (found, '*', length);
}

static int
s_deliver (void *state, const nt_note_t *note, char *error, size_t error_size)
{
    s_state_t *self = state;
    nt_send_text_t text = {NULL, 0, 0, false};
    s_message (self, note, &text);
    if (text.failed) {
        free (text.data);
        snprintf (error, error_size, "smtp: out of memory");
        return -ENOMEM;
    }
    s_upload_t upload = {text.data, text.size, 0};
    char reason[CURL_ERROR_SIZE] = "";
    CURL *curl = self->curl;
    curl_easy_reset (curl);
    curl_easy_setopt (curl, CURLOPT_URL, self->url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt (curl, CURLOPT_MAIL_FROM, self->from_address);
    curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, self->rcpt);
    curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (curl, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt (curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt (curl, CURLOPT_INFILESIZE, (long)text.size);
    curl_easy_setopt (curl, CURLOPT_USE_SSL, self->use_ssl);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, self->timeout);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, reason);
    if (self->user) {
        curl_easy_setopt (curl, CURLOPT_USERNAME, self->user);
        curl_easy_setopt (curl, CURLOPT_PASSWORD, self->password);
    }
    CURLcode code = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, NULL);
    free (text.data);
    if (code == CURLE_OK)
        return 0;
    if (!reason[0])
        snprintf (reason, sizeof reason, "%s", curl_easy_strerror (code));
    s_scrub (reason, self->password);
    if (status >= 400 && status < 600)
        snprintf (error, error_size, "smtp: %ld from %s: %s", status, self->shown, reason);
    else
        snprintf (error, error_size, "smtp: %s: %s", self->shown, reason);
    //  Refused for good only for what the message is (552: too big, 554: rejected); a refusal
    //  of the login, the sender or the recipients is the channel's, fixed by its config: later
    //  (nt_channel.h). Without a word, a timeout or no connection: later.
    //  Only after the whole message went out (the answer to DATA's end): a 554 at the greeting
    //  or to RCPT (no service, relay denied, a blocklist) refuses the channel, not the note.
    bool after_data = upload.size > 0 && upload.sent == upload.size;
    if ((status == 552 || status == 554) && after_data)
        return JOBD_EINVAL;
    return status >= 400 && status < 600 ? -EAGAIN : nt_send_curl_code (code);
}

static void
s_close (void **state_p)
{
    s_state_t *self = *state_p;
    if (!self)
        return;
    nt_send_curl_destroy (&self->curl);
    curl_slist_free_all (self->rcpt);
    free (self->url);
    free (self->shown);
    free (self->from);
    free (self->from_address);
    free (self->to);
    free (self->user);
    nt_send_forget (&self->password);
    free (self);
    *state_p = NULL;
}

const nt_channel_type_t nt_email_type = {
    .type = "email",
    .digests = true,
    .open = s_open,
    .deliver = s_deliver,
    .close = s_close,
};
