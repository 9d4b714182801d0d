"""Checks an app's own nginx text (its nginx.conf.template, filled in) before root's nginx loads it.

The text is read as nginx reads it (the tokenizer follows nginx's ngx_conf_read_token: quotes,
backslash escapes, `#` comments, `{ } ;`, `${var}`), so the directives checked are the ones nginx
would see. Only an allowlist passes, each in its own contexts: server blocks and what proxies to
the app's own containers. Whatever names a file or a path on the host, another port, another
app's names or upstreams, another host, or runs code is refused, as is anything at the top level
(nginx includes the file inside `http { }`) other than `server` blocks. The first problem is
raised as one line naming the directive and its line.
"""

import re
from dataclasses import dataclass, field
from typing import Optional

from minidokku.errors import ValidationError

SOURCE = "nginx.conf.template"
HTTP, SERVER, LOCATION, IF, LIMIT_EXCEPT = "top level", "server", "location", "if", "limit_except"


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...]
    line: int
    block: Optional[tuple["Directive", ...]] = None  # None: a simple directive ending in `;`

    def text(self) -> str:
        return " ".join((self.name, *self.args))


# -- reading nginx's syntax ----------------------------------------------------------------------
class SyntaxProblem(ValidationError):
    pass


def _problem(line: int, message: str) -> SyntaxProblem:
    return SyntaxProblem(f"{SOURCE} line {line}: {message}")


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}
_SPACE = " \t\r\n"


def _unescape(raw: str) -> str:
    """A word's value as nginx builds it: \\" \\' \\\\ \\t \\r \\n are replaced, any other
    backslash stays as it is."""
    out, index = [], 0
    while index < len(raw):
        if raw[index] == "\\" and index + 1 < len(raw) and raw[index + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[index + 1]])
            index += 2
        else:
            out.append(raw[index])
            index += 1
    return "".join(out)


def _statements(text: str):
    """Yields (kind, words, line): kind ";" (a simple directive), "{" (a block opens, its words
    before it), "}" (a block closes) — as nginx's tokenizer splits the text."""
    words: list[str] = []
    line = 1
    start_line = 1
    last_space, need_space, quoted, variable, comment = True, False, False, False, False
    d_quoted = s_quoted = False
    start = 0
    for position, ch in enumerate(text):
        if ch == "\n":
            line += 1
            comment = False
        if comment:
            continue
        if quoted:
            quoted = False
            continue
        if need_space:
            if ch in _SPACE:
                last_space, need_space = True, False
                continue
            if ch == ";":
                yield ";", words, start_line
                words, last_space, need_space = [], True, False
                continue
            if ch == "{":
                yield "{", words, start_line
                words, last_space, need_space = [], True, False
                continue
            if ch != ")":
                raise _problem(line, f"unexpected {ch!r} after a quoted string")
            last_space, need_space = True, False
        if last_space:
            if ch in _SPACE:
                continue
            start = position
            if not words:
                start_line = line
            if ch in ";{":
                if not words:
                    raise _problem(line, f"unexpected {ch!r}")
                yield ch, words, start_line
                words = []
                continue
            if ch == "}":
                if words:
                    raise _problem(line, 'unexpected "}"')
                yield "}", [], line
                continue
            if ch == "#":
                comment = True
                continue
            last_space = False
            if ch == "\\":
                quoted = True
            elif ch == '"':
                start, d_quoted = position + 1, True
            elif ch == "'":
                start, s_quoted = position + 1, True
            elif ch == "$":
                variable = True
            continue
        if ch == "{" and variable:
            continue
        variable = False
        if ch == "\\":
            quoted = True
            continue
        if ch == "$":
            variable = True
            continue
        if d_quoted or s_quoted:
            if ch == ('"' if d_quoted else "'"):
                words.append(_unescape(text[start:position]))
                d_quoted = s_quoted = False
                need_space = True
            continue
        if ch in _SPACE or ch in ";{":
            words.append(_unescape(text[start:position]))
            last_space = True
            if ch in ";{":
                yield ch, words, start_line
                words = []
    if words or not last_space:
        raise _problem(line, 'unexpected end of file, expecting ";" or "}"')


def parse(text: str) -> tuple[Directive, ...]:
    """The directives of the text, blocks nested. Raises SyntaxProblem where nginx would fail."""
    for number, content in enumerate(text.split("\n"), start=1):
        bad = next((ch for ch in content if ord(ch) < 32 and ch not in "\t\r" or ord(ch) == 127), None)
        if bad is not None:
            raise _problem(number, f"a control character ({ord(bad):#04x})")
    stack: list[tuple[Optional[Directive], list[Directive]]] = [(None, [])]
    for kind, words, line in _statements(text):
        if kind == ";":
            stack[-1][1].append(Directive(words[0], tuple(words[1:]), line))
        elif kind == "{":
            stack.append((Directive(words[0], tuple(words[1:]), line), []))
        else:
            if len(stack) == 1:
                raise _problem(line, 'unexpected "}"')
            opened, children = stack.pop()
            stack[-1][1].append(Directive(opened.name, opened.args, opened.line, tuple(children)))
    if len(stack) > 1:
        unclosed = stack[-1][0]
        raise _problem(unclosed.line, f'"{unclosed.name}" is never closed: unexpected end of file, expecting "}}"')
    return tuple(stack[0][1])


def listen_ports(directives: tuple[Directive, ...]) -> set[int]:
    """The ports the `listen` directives among these (at any depth) name first, as nginx takes them."""
    ports = set()
    for directive in directives:
        if directive.name == "listen" and directive.args:
            port = directive.args[0].rpartition(":")[2]
            if port.isdigit():
                ports.add(int(port))
        ports |= listen_ports(directive.block or ())
    return ports


# -- what an app may say ------------------------------------------------------------------------
@dataclass(frozen=True)
class Allowed:
    """The app's own values: the only ones a template's directives may name."""

    app: str
    listen: dict[int, frozenset[str]]  # host port -> the listen parameters it takes ({"ssl", "http2"} or none)
    server_names: frozenset[str]
    upstreams: frozenset[str]
    access_log: str
    error_log: str
    tls_files: frozenset[str] = field(default_factory=frozenset)  # its certificate and key, when it has them
    max_body_size: str = "1m"  # what an admin set (nginx:set client-max-body-size); "0": no limit


IN_SERVER = frozenset({SERVER, LOCATION, IF})
IN_LOCATION = frozenset({LOCATION, IF, LIMIT_EXCEPT})
BLOCKS = {
    "server": (frozenset({HTTP}), SERVER),
    "location": (frozenset({SERVER, LOCATION}), LOCATION),
    "if": (frozenset({SERVER, LOCATION}), IF),
    "limit_except": (frozenset({LOCATION}), LIMIT_EXCEPT),
}
_SERVER_LEVEL = """listen server_name ssl_certificate ssl_certificate_key ssl_protocols ssl_ciphers
    ssl_prefer_server_ciphers ssl_session_timeout ssl_session_tickets ssl_ecdh_curve ssl_early_data
    client_header_timeout client_header_buffer_size large_client_header_buffers
    underscores_in_headers ignore_invalid_headers"""
_ANYWHERE_IN_SERVER = """access_log error_log add_header add_trailer expires etag charset default_type
    client_max_body_size client_body_buffer_size client_body_timeout send_timeout keepalive_timeout
    keepalive_requests chunked_transfer_encoding tcp_nodelay server_tokens if_modified_since
    limit_rate limit_rate_after allow deny satisfy auth_basic error_page recursive_error_pages
    return rewrite set break rewrite_log uninitialized_variable_warn log_not_found log_subrequest
    absolute_redirect port_in_redirect server_name_in_redirect real_ip_header set_real_ip_from
    real_ip_recursive sub_filter sub_filter_once sub_filter_types sub_filter_last_modified
    gzip gzip_comp_level gzip_min_length gzip_types gzip_proxied gzip_vary gzip_http_version
    gzip_disable gzip_buffers
    proxy_http_version proxy_set_header proxy_hide_header proxy_pass_header proxy_ignore_headers
    proxy_redirect proxy_read_timeout proxy_connect_timeout proxy_send_timeout proxy_buffering
    proxy_buffer_size proxy_buffers proxy_busy_buffers_size proxy_request_buffering
    proxy_max_temp_file_size proxy_temp_file_write_size proxy_intercept_errors proxy_next_upstream
    proxy_next_upstream_tries proxy_next_upstream_timeout proxy_cookie_domain proxy_cookie_path
    proxy_cookie_flags proxy_method proxy_pass_request_body proxy_pass_request_headers proxy_set_body
    proxy_headers_hash_max_size proxy_headers_hash_bucket_size proxy_socket_keepalive
    proxy_limit_rate proxy_force_ranges proxy_ignore_client_abort"""
DIRECTIVES: dict[str, frozenset[str]] = {
    **dict.fromkeys(_SERVER_LEVEL.split(), frozenset({SERVER})),
    **dict.fromkeys(_ANYWHERE_IN_SERVER.split(), IN_SERVER | {LIMIT_EXCEPT}),
    "internal": frozenset({LOCATION}),
    "proxy_pass": IN_LOCATION,
}
# Refused with the reason said, rather than "not a directive a template may use".
_NAMES_A_FILE = """include load_module root alias try_files index autoindex auth_basic_user_file
    ssl_dhparam ssl_password_file ssl_trusted_certificate ssl_client_certificate ssl_crl
    ssl_stapling_file ssl_session_ticket_key ssl_session_cache ssl_stapling ssl_conf_command
    client_body_temp_path proxy_temp_path fastcgi_temp_path uwsgi_temp_path scgi_temp_path
    proxy_store proxy_cache proxy_cache_path open_file_cache gzip_static ssi"""
_OTHER_HOSTS = """resolver fastcgi_pass uwsgi_pass scgi_pass grpc_pass memcached_pass proxy_bind mirror
    auth_request"""
_REASONS = {
    **dict.fromkeys(_NAMES_A_FILE.split(), "it names a file or a path on the host"),
    **dict.fromkeys(_OTHER_HOSTS.split(), "it reaches other hosts or sockets"),
}
_CODE = re.compile(r"(lua|perl|js|njs)_|perl$|\w+_by_(lua|perl|js)")
_FILE_TESTS = frozenset({"-f", "-d", "-e", "-x"})
_SIZE = re.compile(r"([0-9]+)([kKmMgG]?)")
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MAX_BUFFER_BYTES = 8 << 20  # each buffer an app's template asks nginx (shared by every app) for
MAX_BUFFER_COUNT = 64
MAX_BUFFERS_TOTAL = 8 << 20  # count × size of one directive's buffers: per connection, in every worker
MAX_SECONDS = 3600  # a timeout: longer ones let a few idle clients hold the connections every app shares
MAX_TEMP_FILE_BYTES = 1 << 30  # proxy_max_temp_file_size: nginx's own default, on the host's disk
_TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
_TIME_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|M|y)?")
_TIME_UNITS = {"ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
_PORT = re.compile(r"[0-9]{1,5}")
_COUNTED_BUFFERS = frozenset({"proxy_buffers", "gzip_buffers", "large_client_header_buffers"})
_BUFFERS = frozenset(
    {"proxy_buffers", "proxy_buffer_size", "proxy_busy_buffers_size", "client_body_buffer_size",
     "client_header_buffer_size", "large_client_header_buffers", "gzip_buffers", "proxy_temp_file_write_size"}
)  # fmt: skip


def check(text: str, allowed: Allowed) -> tuple[Directive, ...]:
    """The text's directives when every one is allowed; else ValidationError naming the first."""
    directives = parse(text)
    _check_block(directives, HTTP, allowed)
    return directives


def _check_block(directives: tuple[Directive, ...], context: str, allowed: Allowed) -> None:
    for directive in directives:
        problem = _problem_of(directive, context, allowed)
        if problem:
            shown = directive.text() if len(directive.text()) <= 80 else directive.text()[:77] + "..."
            raise ValidationError(f"{SOURCE} line {directive.line}: {shown!r} is refused: {problem}")
        if directive.block is not None:
            _check_block(directive.block, BLOCKS[directive.name][1], allowed)


def _problem_of(directive: Directive, context: str, allowed: Allowed) -> Optional[str]:
    name = directive.name
    if name in _REASONS:
        return _REASONS[name]
    if _CODE.match(name):
        return "it runs code inside nginx"
    if context == HTTP and name != "server":
        return "a template holds server blocks only (nginx's http level is shared by every app)"
    if name in BLOCKS:
        contexts, _inner = BLOCKS[name]
        if directive.block is None:
            return "it must open a block"
        if context not in contexts:
            return f"not allowed in {context}"
        if name == "server" and not any(inner.name == "listen" for inner in directive.block):
            return "a server block names its ports with listen (nginx would put it on port 80)"
        return _if_problem(directive) if name == "if" else None
    if directive.block is not None:
        return "not a block a template may open"
    if name not in DIRECTIVES:
        return "not a directive a template may use"
    if context not in DIRECTIVES[name]:
        return f"not allowed in {context}"
    rule = _ARGUMENT_RULES.get(name)
    if rule is not None:
        return rule(directive.args, allowed)
    if name in _BUFFERS:
        return _buffers_problem(name, directive.args)
    if name.endswith("_timeout"):
        return _timeout_problem(directive.args)
    if name == "proxy_max_temp_file_size" and any(_number(w) > MAX_TEMP_FILE_BYTES for w in directive.args):
        return f"temporary files are limited to {MAX_TEMP_FILE_BYTES >> 20}m"
    return None


def _if_problem(directive: Directive) -> Optional[str]:
    for word in directive.args:
        if word.lstrip("(").lstrip("!") in _FILE_TESTS:
            return "file tests look at the host's files"
    return None


def _listen(args: tuple[str, ...], allowed: Allowed) -> Optional[str]:
    own = ", ".join(str(port) for port in sorted(allowed.listen))
    if not args or not _PORT.fullmatch(args[0]) or int(args[0]) not in allowed.listen:
        return f"{allowed.app} listens only on its own ports ({own}), without an address"
    params = set(args[1:])
    takes = allowed.listen[int(args[0])]
    if not params <= takes or (takes and "ssl" not in params):
        wanted = " ".join(sorted(takes, reverse=True)) or "no parameter"
        return f"port {args[0]} takes {wanted} (the same as every app on it)"
    return None


def _server_name(args: tuple[str, ...], allowed: Allowed) -> Optional[str]:
    foreign = [name for name in args if name not in allowed.server_names]
    if not args or foreign:
        return f"{allowed.app}'s names are {' '.join(sorted(allowed.server_names))} (domains:add gives it more)"
    return None


def _proxy_pass(args: tuple[str, ...], allowed: Allowed) -> Optional[str]:
    target = args[0] if len(args) == 1 else ""
    host = target.removeprefix("http://").partition("/")[0] if target.startswith("http://") else ""
    if "$" in target or host not in allowed.upstreams:
        own = " ".join(f"http://{name}" for name in sorted(allowed.upstreams))
        return f"{allowed.app} proxies only to its own containers ({own})"
    return None


def _log(kind: str):
    def rule(args: tuple[str, ...], allowed: Allowed) -> Optional[str]:
        own = allowed.access_log if kind == "access" else allowed.error_log
        if not args or args[0] not in {own, "off"} or "off" == args[0] and kind == "error":
            return f"{allowed.app}'s {kind} log is {own}"
        if any("$" in word or "syslog:" in word for word in args[1:]):
            return "log parameters without variables or syslog"
        return None

    return rule


def _tls_file(args: tuple[str, ...], allowed: Allowed) -> Optional[str]:
    if len(args) != 1 or args[0] not in allowed.tls_files:
        own = " ".join(sorted(allowed.tls_files)) or "none (certs:add gives it one)"
        return f"{allowed.app}'s certificate files are {own}"
    return None


def _body_size(args: tuple[str, ...], allowed: Allowed) -> Optional[str]:
    """No larger a request body than the admin allowed the app (bodies are buffered on the host's disk)."""
    limit = _number(allowed.max_body_size)
    if limit and (len(args) != 1 or not _number(args[0]) or _number(args[0]) > limit):
        return f"{allowed.app} takes request bodies up to {allowed.max_body_size} (an admin's nginx:set)"
    return None


def _buffers_problem(name: str, args: tuple[str, ...]) -> Optional[str]:
    counts, sizes = (args[:1], args[1:]) if name in _COUNTED_BUFFERS else ((), args)
    too_many = any(_number(word) > MAX_BUFFER_COUNT for word in counts)
    if too_many or any(_number(w) > MAX_BUFFER_BYTES for w in sizes):
        return f"buffers are limited to {MAX_BUFFER_COUNT} of {MAX_BUFFER_BYTES >> 20}m at most"
    if counts and sizes and _number(counts[0]) * _number(sizes[0]) > MAX_BUFFERS_TOTAL:
        return f"a directive's buffers add up to {MAX_BUFFERS_TOTAL >> 20}m at most"
    return None


def _timeout_problem(args: tuple[str, ...]) -> Optional[str]:
    """Each time (nginx's 30s, 1h30m, ...) at most MAX_SECONDS; a word that is no time is nginx's to judge."""
    for word in args:
        if _TIME.fullmatch(word):
            seconds = sum(int(n) * _TIME_UNITS[unit or ""] for n, unit in _TIME_PART.findall(word))
            if seconds > MAX_SECONDS:
                return f"timeouts are limited to {MAX_SECONDS // 60} minutes"
    return None


def _number(word: str) -> int:
    """A count or a size in bytes (1k, 8m); 0 for anything else, which nginx judges."""
    match = _SIZE.fullmatch(word)
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()] if match else 0


_ARGUMENT_RULES = {
    "listen": _listen,
    "server_name": _server_name,
    "proxy_pass": _proxy_pass,
    "access_log": _log("access"),
    "error_log": _log("error"),
    "ssl_certificate": _tls_file,
    "ssl_certificate_key": _tls_file,
    "client_max_body_size": _body_size,
}
