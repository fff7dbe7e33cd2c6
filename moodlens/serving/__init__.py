"""The web server: the page, the HTTP and WebSocket API, request limits and background video jobs."""
