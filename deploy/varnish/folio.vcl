# Varnish in front of folio (Varnish 7, with varnish-modules' xkey).
#
# folio names each public page's tags in an `xkey` header and, when
# FOLIO_EDGE_PURGE_URLS points here, sends `PURGE /` with an `xkey` header
# after every change: this VCL drops every object carrying one of them.
# Only what folio marks as public and tagged is kept; everything else
# (private pages, pages that set a cookie, errors) passes through.
#
#   varnishd -a :6081 -f /etc/varnish/folio.vcl -s malloc,256m
#   FOLIO_EDGE_PURGE_URLS=http://127.0.0.1:6081 folio serve
vcl 4.1;

import std;
import xkey;

# folio (or the nginx in front of several instances).
backend folio {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 1s;
    .first_byte_timeout = 15s;
    .between_bytes_timeout = 5s;
    .probe = {
        .url = "/healthz";
        .interval = 2s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
    }
}

# The addresses of folio's instances: only they may purge.
acl folio_purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ folio_purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey) {
            return (synth(400, "A PURGE needs an xkey header"));
        }
        set req.http.x-purged = xkey.purge(req.http.xkey);
        return (synth(200, "Purged " + req.http.x-purged));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Admins' pages are private anyway; do not even look them up.
    if (req.url ~ "^/admin") {
        return (pass);
    }
    # One variant per encoding Varnish itself handles: folio's gzip, or
    # none (Varnish unzips for clients that do not take gzip).
    if (req.http.Accept-Encoding ~ "gzip") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
    # While folio answers, an object past its TTL is served for at most
    # 10 s while it is refetched; while folio is down, for its whole grace.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 10s;
    }
    # folio's public pages are the same for every visitor (it never puts
    # anything of a visitor's into them), so cookies do not keep a request
    # from the cache; what a cookie changes is marked private by folio.
    return (hash);
}

sub vcl_backend_response {
    # Kept only when folio says it can purge it (surrogate keys), that an
    # edge may keep it (s-maxage > 0), and it is a whole 200 for everyone.
    if (beresp.status != 200
        || !beresp.http.xkey
        || beresp.ttl <= 0s
        || beresp.http.Set-Cookie
        || beresp.http.Cache-Control ~ "(private|no-store|no-cache)") {
        # Hit-for-miss for 2 minutes: requests for it go straight to folio
        # instead of queueing behind each other, and a later cacheable
        # answer replaces the marker.
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        set beresp.grace = 0s;
        return (deliver);
    }
    # Stale-if-error: served this long past its TTL while folio is sick.
    set beresp.grace = 6h;
    return (deliver);
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Edge = "HIT";
    } else {
        set resp.http.X-Edge = "MISS";
    }
    # For the edge only.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Control;
}
