#!/usr/bin/env bash
# Starts a real Tryton 6.0 (Debian 12 packages) with the Fulfil REST v2 façade (modules/fulfil_rest) and a merchant
# set-up (setup.py) on a free 127.0.0.1 port. Prints the connection as key=value lines, then "ready".
#
#   eng/tryton/start.sh [--dir DIR] [--foreground | --prepare]
#
# --prepare      only install the packages and build the cached database (eng/test.sh runs it beside the build).
# --dir          where the database, config and log go (default: a new temp folder).
# --foreground   after "ready", become trytond (the caller stops the server by stopping this process); otherwise trytond
#                runs in the background and its pid is printed.
# The Debian packages are installed when absent (apt-get, as root or through sudo). The database built from the
# current setup.py and module is cached in $TRYTON_CACHE (default /tmp/loopfulfil-tryton-cache) and copied, so a second
# start takes seconds; every start still gets a fresh copy of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=""
foreground=0
prepare=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --foreground) foreground=1; shift ;;
    --prepare) prepare=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

# Debian's interpreter: another python3 earlier on the PATH cannot import Debian's trytond.
py=/usr/bin/python3
packages=(tryton-server tryton-proteus tryton-modules-sale tryton-modules-account-invoice tryton-modules-stock
  tryton-modules-sale-gift-card tryton-modules-account-invoice-stock tryton-modules-account-stock-continental)
log() { echo "tryton: $*" >&2; }

installed() { [ -x /usr/bin/trytond ] && [ -x /usr/bin/trytond-admin ] && [ -d /usr/lib/python3/dist-packages/trytond/modules/sale_gift_card ] \
  && [ -d /usr/lib/python3/dist-packages/trytond/modules/account_stock_continental ] && [ -d /usr/lib/python3/dist-packages/proteus ]; }
if ! installed; then
  command -v apt-get >/dev/null || { echo "tryton: not installed and no apt-get: install ${packages[*]}" >&2; exit 3; }
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo -n"
  log "installing the Debian packages (about a minute)…"
  # Several starts at once (parallel test hosts) share one install.
  exec 9>/tmp/loopfulfil-tryton-apt.lock; flock 9
  if ! installed; then
    $sudo_cmd apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2 \
      || { echo "tryton: apt-get install failed" >&2; exit 3; }
  fi
  flock -u 9
fi

[ -n "$dir" ] || dir=$(mktemp -d /tmp/loopfulfil-tryton.XXXXXX)
mkdir -p "$dir/db"
dir=$(cd "$dir" && pwd)
db=loopfulfil
# trytond finds a module outside its own tree through a "trytond.modules" entry point; a private folder with the entry
# point and a link to the module keeps Debian's tree untouched.
pp="$dir/pythonpath"
rm -rf "$pp" && mkdir -p "$pp/trytond/modules" "$pp/loopfulfil_tryton-1.dist-info"
ln -s "$here/modules/fulfil_rest" "$pp/trytond/modules/fulfil_rest"
printf 'Metadata-Version: 2.1\nName: loopfulfil-tryton\nVersion: 1\n' > "$pp/loopfulfil_tryton-1.dist-info/METADATA"
printf '[trytond.modules]\nfulfil_rest = trytond.modules.fulfil_rest\n' > "$pp/loopfulfil_tryton-1.dist-info/entry_points.txt"
export PYTHONPATH="$pp"

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$dir/trytond.conf" <<CONF
[database]
uri = sqlite://
path = $dir/db
[web]
listen = 127.0.0.1:$port
[session]
authentications = password
[queue]
worker = False
CONF
export TRYTONPASSFILE="$dir/admin-password"
echo "admin" > "$TRYTONPASSFILE"
export DB_NAME=$db

cache=${TRYTON_CACHE:-/tmp/loopfulfil-tryton-cache}
activate="sale account_invoice stock sale_gift_card account_invoice_stock account_stock_continental fulfil_rest"
# The cache follows what shapes the database: the modules activated, the façade module and the set-up.
key=$( (echo "$activate"; cat "$here/setup.py" $(find "$here/modules" -type f -name '*.py' -o -type f -name '*.xml' -o -type f -name '*.cfg' | sort)) | sha256sum | cut -c1-16)
mkdir -p "$cache"
if [ -f "$cache/$key.sqlite" ] && [ -f "$cache/$key.env" ]; then
  cp "$cache/$key.sqlite" "$dir/db/$db.sqlite"
  log "database copied from the cache ($key)"
else
  start=$(date +%s)
  rm -f "$dir/db/$db.sqlite"; touch "$dir/db/$db.sqlite"
  log "creating the database and activating the modules…"
  $py /usr/bin/trytond-admin -c "$dir/trytond.conf" -d $db --all --email admin@example.com \
    -u $activate --activate-dependencies >"$dir/admin.log" 2>&1 \
    || { tail -40 "$dir/admin.log" >&2; exit 4; }
  log "loading the merchant set-up…"
  $py "$here/setup.py" "$dir/trytond.conf" > "$dir/setup.env" 2>"$dir/setup.log" || { tail -40 "$dir/setup.log" >&2; exit 5; }
  cp "$dir/db/$db.sqlite" "$cache/$key.sqlite.$$" && mv "$cache/$key.sqlite.$$" "$cache/$key.sqlite"
  cp "$dir/setup.env" "$cache/$key.env.$$" && mv "$cache/$key.env.$$" "$cache/$key.env"
  log "database ready in $(( $(date +%s) - start )) s (cached as $key)"
fi
cp "$cache/$key.env" "$dir/setup.env"
if [ $prepare -eq 1 ]; then log "prepared (cache $key)"; rm -rf "$dir"; exit 0; fi

# The base URL is the Fulfil REST v2 root the client appends model/... to.
echo "base_url=http://127.0.0.1:$port/$db/api/v2/"
echo "dir=$dir"
cat "$dir/setup.env"
if [ $foreground -eq 1 ]; then
  # The caller polls the base URL until the server answers.
  echo starting
  exec $py /usr/bin/trytond -c "$dir/trytond.conf" 2>>"$dir/trytond.log"
fi
$py /usr/bin/trytond -c "$dir/trytond.conf" >>"$dir/trytond.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  if $py -c "import urllib.request,sys; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$port/', data=b'{\"method\":\"common.server.version\",\"params\":[]}', headers={'Content-Type':'application/json'}), timeout=1)" 2>/dev/null; then
    echo "pid=$pid"; echo ready; exit 0
  fi
  kill -0 $pid 2>/dev/null || { tail -30 "$dir/trytond.log" >&2; exit 6; }
  sleep 0.2
done
echo "tryton: trytond did not answer on 127.0.0.1:$port" >&2; kill $pid; exit 6
