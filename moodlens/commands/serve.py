"""Serve the web page and the HTTP API: emotions in a browser, from its camera or an uploaded photo or video.

    python serve.py                          # http://127.0.0.1:8000 on this machine only; API at /docs
    python serve.py --host 0.0.0.0 --token SECRET --certfile cert.pem --keyfile key.pem   # phones on the LAN

The face-search, labelling and smoothing options and their defaults are detect.py's (`options`).
"""

import argparse
import ipaddress
import socket
import sys
from pathlib import Path

from moodlens import cli
from moodlens.commands.options import add_detector_options, check_detector_options, detector_spec
from moodlens.errors import MoodlensError
from moodlens.serving.server import ServerSettings


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, received {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, received {value}")
    return value


def listen(host: str, number: int) -> socket.socket:
    """The listening socket, bound here so that a port in use is a one-line error."""
    try:
        return socket.create_server((host, number), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise MoodlensError(f"cannot listen on {host}:{number}: {cli.os_error_text(exc)}") from None


def loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    defaults = ServerSettings()
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; any other needs --token)")
    p.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--token", help="a secret every request but the page's must carry (Authorization: Bearer TOKEN, "
                                   "or ?token=TOKEN in the page's address); without it, only requests addressed "
                                   "to localhost, 127.0.0.1 or [::1] are answered")
    p.add_argument("--certfile", type=Path, help="HTTPS certificate (PEM): phones give the camera only to HTTPS pages")
    p.add_argument("--keyfile", type=Path, help="HTTPS private key (PEM)")
    p.add_argument("--max-upload-mb", type=cli.positive_float, default=defaults.max_upload_mb,
                   help=f"largest photo or video upload (default {defaults.max_upload_mb:g} MiB)")
    p.add_argument("--max-connections", type=cli.positive_int, default=defaults.max_connections,
                   help=f"API requests and live connections at once; more are answered 503 "
                        f"(default {defaults.max_connections})")
    p.add_argument("--max-fps", type=cli.positive_float, default=defaults.max_fps,
                   help=f"frames a second one live connection may send (default {defaults.max_fps:g})")
    p.add_argument("--upload-timeout", type=cli.positive_float, default=defaults.upload_timeout,
                   help=f"seconds an upload may take to arrive (default {defaults.upload_timeout:g})")
    p.add_argument("--keep-minutes", type=cli.positive_float, default=defaults.keep_minutes,
                   help=f"minutes a finished video's annotated copy and records wait for download before they "
                        f"are deleted (default {defaults.keep_minutes:g})")
    p.add_argument("--threads", type=cli.positive_int, default=None, help="CPU threads for inference")
    add_detector_options(p)
    args = p.parse_args(argv)
    check_detector_options(p, args)
    if not loopback(args.host) and not args.token:
        p.error(f"--host {args.host} serves other machines: give --token so that only its holders can use it")
    if (args.certfile is None) != (args.keyfile is None):
        p.error("--certfile and --keyfile go together")
    return args


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    import uvicorn

    from moodlens.serving.server import MAX_FRAME_BYTES, create_app

    for path in (args.certfile, args.keyfile):
        if path is not None and not path.is_file():
            raise MoodlensError(f"{path} not found (docs/serving.md, Safety: how to make a self-signed certificate)")
    sock = listen(args.host, args.port)  # first: a port in use is said before the model loads
    detector = detector_spec(args, threads=args.threads).build()  # detect.py's options, defaults and detector
    settings = ServerSettings(args.token, args.max_connections, args.max_upload_mb, args.upload_timeout,
                              args.max_fps, args.smooth, args.redetect, args.keep_minutes)
    scheme = "https" if args.certfile else "http"
    if not loopback(args.host) and scheme == "http":
        print("note: without --certfile/--keyfile, browsers on other machines will not give the page a camera "
              "(uploads still work)", file=sys.stderr)
    config = uvicorn.Config(create_app(detector, settings), ssl_certfile=args.certfile, ssl_keyfile=args.keyfile,
                            ws_max_size=MAX_FRAME_BYTES, log_level="warning")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"serving on {scheme}://{host}:{sock.getsockname()[1]}/ (API: /docs); Ctrl-C stops", file=sys.stderr,
          flush=True)
    uvicorn.Server(config).run(sockets=[sock])  # on Ctrl-C or SIGTERM: shuts down, then raises the signal again
    # Returning at all means a signal stopped it that this process ignores (SIGINT, for `serve.py &` in a
    # script): uvicorn stopped on it all the same, so the exit status says stopped, not finished.
    raise KeyboardInterrupt

