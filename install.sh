#!/usr/bin/env bash
# Installs m32-server as a systemd service on Debian 12/13 (x86_64 or arm64).
#
#   sudo ./install.sh                     install or update, then start
#   sudo ./install.sh --uninstall         remove it (keeps /var/lib/m32-server and /etc/default/m32-server)
#   sudo ./install.sh --uninstall --purge remove it with its data and settings
#   DESTDIR=/tmp/stage ./install.sh       stage the files only: no apt, systemctl or hostnamectl
#
# Run it again at any time: it changes only what differs and restarts the service
# only when the program or the unit changed. See docs/install.md.
set -euo pipefail

NAME=m32-server
DEFAULT_HOSTNAME=m32-server
RUNTIME_PACKAGES=(libasound2 libopus0 libsamplerate0 libssl3 avahi-daemon)
DEFAULT_HTTP_PORT=8080
DEFAULT_RTP_PORT=5004
MIN_PASSWORD_LENGTH=8

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"

BIN="/usr/local/bin/$NAME"
LIBDIR="/usr/local/lib/$NAME"
DOCDIR="/usr/local/share/doc/$NAME"
UNIT="/etc/systemd/system/$NAME.service"
DEFAULTS="/etc/default/$NAME"
CONFDIR="/etc/$NAME"
FIRST_PASSWORD="$CONFDIR/first-admin-password"
AVAHI_SERVICE="/etc/avahi/services/$NAME.service"
SYSCTL_CONF="/etc/sysctl.d/60-$NAME.conf"
STATE_DIRS=("/var/lib/$NAME" "/var/lib/private/$NAME")
CACHE_DIRS=("/var/cache/$NAME" "/var/cache/private/$NAME")

usage() {
  cat <<EOF
usage: sudo ./install.sh [options]
  --binary PATH               the compiled m32-server program (default: ./m32-server or dist/m32-server)
  --bundle PATH               install the bundled m32-server.js instead, run by a Deno runtime
  --deno PATH                 the Deno runtime for --bundle (default: ./deno, else the deno on PATH)
  --hostname NAME             set this machine's host name (phones find it as NAME.local)
  --keep-hostname             never rename this machine
  --admin-password-file FILE  first admin password (first line of FILE, at least $MIN_PASSWORD_LENGTH characters)
  --no-start                  install and enable, but do not start the service now
  --uninstall                 remove m32-server (data and /etc/default/$NAME are kept)
  --purge                     with --uninstall: also remove the data and settings
  -y, --yes                   answer yes to questions (rename to $DEFAULT_HOSTNAME)
  -h, --help                  this text
Environment: DESTDIR=DIR stages every file under DIR and only prints the
system changes (packages, systemctl, host name) it would make.
EOF
}

say() { printf '[install] %s\n' "$*"; }
would() { printf '[install] would run: %s\n' "$*"; }
die() {
  printf '[install] error: %s\n' "$*" >&2
  exit 1
}

binary="" bundle="" deno_rt="" want_hostname="" keep_hostname=0 password_file=""
start=1 uninstall=0 purge=0 assume_yes=0
while [ $# -gt 0 ]; do
  case "$1" in
  --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
  --bundle) bundle="${2:?--bundle needs a path}"; shift 2 ;;
  --deno) deno_rt="${2:?--deno needs a path}"; shift 2 ;;
  --hostname) want_hostname="${2:?--hostname needs a name}"; shift 2 ;;
  --keep-hostname) keep_hostname=1; shift ;;
  --admin-password-file) password_file="${2:?--admin-password-file needs a path}"; shift 2 ;;
  --no-start) start=0; shift ;;
  --uninstall) uninstall=1; shift ;;
  --purge) purge=1; shift ;;
  -y | --yes) assume_yes=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; die "unknown option: $1" ;;
  esac
done

staging() { [ -n "$DESTDIR" ]; }
if ! staging && [ "$(id -u)" -ne 0 ]; then
  die "run as root: sudo ./install.sh (or set DESTDIR to stage the files)"
fi

changed=0      # any file written or removed
restart=0      # the program or the unit changed
unit_changed=0

# put SRC DEST MODE: copies SRC to DESTDIR/DEST unless it is already identical.
put() {
  local src="$1" dest="$DESTDIR$2" mode="$3"
  if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  install -m "$mode" "$src" "$dest.m32-new"
  mv -f "$dest.m32-new" "$dest"
  say "installed $2 (mode $mode)"
  changed=1
  return 0
}

# put_text DEST MODE <<< content
put_text() {
  local tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  local rc=0
  put "$tmp" "$1" "$2" || rc=$?
  rm -f "$tmp"
  return "$rc"
}

remove() {
  local p
  for p in "$@"; do
    if [ -e "$DESTDIR$p" ] || [ -L "$DESTDIR$p" ]; then
      rm -rf -- "$DESTDIR$p"
      say "removed $p"
      changed=1
    fi
  done
}

# system CMD…: runs a command that changes the running system, or prints it when staging.
system() {
  if staging; then would "$*"; else "$@"; fi
}

is_elf() { [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = "7f454c46" ]; }

# --- uninstall ---------------------------------------------------------------
if [ "$uninstall" -eq 1 ]; then
  if staging || systemctl cat "$NAME.service" >/dev/null 2>&1; then
    system systemctl disable --now "$NAME.service" || true
  fi
  remove "$BIN" "$LIBDIR" "$DOCDIR" "$UNIT" "$AVAHI_SERVICE" "$CONFDIR" "$SYSCTL_CONF"
  if [ "$purge" -eq 1 ]; then
    remove "$DEFAULTS" "${STATE_DIRS[@]}" "${CACHE_DIRS[@]}"
  else
    say "kept ${STATE_DIRS[0]} (settings database) and $DEFAULTS; --purge removes them"
  fi
  system systemctl daemon-reload
  say "the host name and the Debian packages (${RUNTIME_PACKAGES[*]}) were left as they are"
  say "m32-server uninstalled"
  exit 0
fi

# --- what to install -----------------------------------------------------------
if [ -z "$binary" ] && [ -z "$bundle" ]; then
  for c in "$here/$NAME" "$here/dist/$NAME"; do
    if [ -f "$c" ] && is_elf "$c"; then binary="$c"; break; fi
  done
  if [ -z "$binary" ]; then
    for c in "$here/$NAME.js" "$here/dist/$NAME.js"; do
      if [ -f "$c" ]; then bundle="$c"; break; fi
    done
  fi
fi
if [ -n "$binary" ]; then
  [ -f "$binary" ] || die "--binary $binary: no such file"
  is_elf "$binary" || die "--binary $binary is not an executable program (ELF)"
elif [ -n "$bundle" ]; then
  [ -f "$bundle" ] || die "--bundle $bundle: no such file"
  if [ -z "$deno_rt" ]; then
    if [ -x "$here/deno" ]; then deno_rt="$here/deno"; else deno_rt="$(command -v deno || true)"; fi
  fi
  [ -n "$deno_rt" ] || die "no Deno runtime for the bundle: pass --deno PATH (the release carries ./deno)"
  deno_rt="$(readlink -f "$deno_rt")"
  is_elf "$deno_rt" || die "--deno $deno_rt is not an executable program (ELF)"
else
  die "nothing to install: no $NAME program or $NAME.js bundle next to install.sh or in dist/ (run 'deno task compile' or 'deno task bundle', or pass --binary PATH)"
fi

unit_src=""
for c in "$here/systemd/$NAME.service" "$here/$NAME.service"; do
  if [ -f "$c" ]; then unit_src="$c"; break; fi
done
[ -n "$unit_src" ] || die "systemd unit $NAME.service not found next to install.sh"

if [ -n "$want_hostname" ] &&
  ! [[ "$want_hostname" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; then
  die "--hostname $want_hostname: use lower-case letters, digits and '-' (at most 63)"
fi

new_password=""
if [ -n "$password_file" ]; then
  [ -r "$password_file" ] || die "--admin-password-file $password_file cannot be read"
  IFS= read -r new_password <"$password_file" || true
  [ "${#new_password}" -ge "$MIN_PASSWORD_LENGTH" ] ||
    die "the admin password needs at least $MIN_PASSWORD_LENGTH characters"
  case "$new_password" in *[\"\\\$\`]*) die "the admin password may not contain \" \\ \$ or \`" ;; esac
fi

# --- packages ------------------------------------------------------------------
missing=()
for p in "${RUNTIME_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    dpkg-query -W -f='${Status}' "${p}t64" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if staging; then
    would "apt-get install -y --no-install-recommends ${missing[*]}"
  else
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# --- the program -----------------------------------------------------------------
if [ -n "$binary" ]; then
  if put "$binary" "$BIN" 0755; then restart=1; fi
  remove "$LIBDIR"
else
  if put "$bundle" "$LIBDIR/$NAME.js" 0644; then restart=1; fi
  if put "$deno_rt" "$LIBDIR/deno" 0755; then restart=1; fi
  if put_text "$BIN" 0755 <<EOF; then restart=1; fi
#!/bin/sh
# m32-server (installed by install.sh): the bundled server on its own Deno runtime.
exec $LIBDIR/deno run --allow-all --unstable-net --no-config --no-lock --no-prompt $LIBDIR/$NAME.js "\$@"
EOF
fi

if put "$unit_src" "$UNIT" 0644; then unit_changed=1; restart=1; fi
if [ -f "$here/docs/install.md" ]; then put "$here/docs/install.md" "$DOCDIR/install.md" 0644 || true; fi

# --- settings ----------------------------------------------------------------------
if [ ! -e "$DESTDIR$DEFAULTS" ]; then
  put_text "$DEFAULTS" 0644 <<EOF || true
# Settings for m32-server (read by systemd at every start; then: sudo systemctl restart m32-server).
# Uncomment a line to change it. Everything else is on the admin page: http://$DEFAULT_HOSTNAME.local:$DEFAULT_HTTP_PORT/admin/
#M32_HTTP_PORT=$DEFAULT_HTTP_PORT
#M32_RTP_PORT=$DEFAULT_RTP_PORT
# auto: the console when it is plugged in, else the test signal; alsa: the console only; test: test signal.
#M32_SOURCE=auto
#M32_LOG_LEVEL=info
# First admin password, used only while none is stored. Prefer the admin page; if you set it
# here, also run: sudo chmod 600 $DEFAULTS
#M32_ADMIN_PASSWORD=
EOF
fi

# The ports the avahi announcement carries: the defaults, or what /etc/default sets.
setting() {
  local v=""
  if [ -f "$DESTDIR$DEFAULTS" ]; then
    v="$(sed -n "s/^[[:space:]]*$1=[\"']\{0,1\}\([0-9]*\)[\"']\{0,1\}[[:space:]]*$/\1/p" "$DESTDIR$DEFAULTS" | tail -n 1)"
  fi
  printf '%s' "${v:-$2}"
}
http_port="$(setting M32_HTTP_PORT "$DEFAULT_HTTP_PORT")"
rtp_port="$(setting M32_RTP_PORT "$DEFAULT_RTP_PORT")"

avahi_changed=0
if put_text "$AVAHI_SERVICE" 0644 <<EOF; then avahi_changed=1; fi
<?xml version="1.0" standalone="no"?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<!-- Installed by m32-server's install.sh: phones find the server through DNS-SD. -->
<service-group>
  <name replace-wildcards="yes">m32-server on %h</name>
  <service>
    <type>_m32audio._udp</type>
    <port>$rtp_port</port>
    <txt-record>http=$http_port</txt-record>
    <txt-record>ws=/ws</txt-record>
  </service>
  <service>
    <type>_http._tcp</type>
    <port>$http_port</port>
    <txt-record>path=/admin/</txt-record>
  </service>
</service-group>
EOF

# --- kernel settings ------------------------------------------------------------------
# The optional HTTPS listener renews its certificate by binding a second socket
# on the same port (SO_REUSEPORT) and closing the old one; with this the kernel
# hands connections still queued on the old socket to the new one instead of
# resetting them.
sysctl_changed=0
if put_text "$SYSCTL_CONF" 0644 <<EOF; then sysctl_changed=1; fi
# Written by m32-server's install.sh.
net.ipv4.tcp_migrate_req = 1
EOF
if [ "$sysctl_changed" -eq 1 ]; then system sysctl -q -p "$SYSCTL_CONF" || true; fi

# --- first admin password ---------------------------------------------------------
# The server stores only a hash, and takes M32_ADMIN_PASSWORD only while its
# database has none. So the password goes into a root-only file the unit reads
# (EnvironmentFile=-$FIRST_PASSWORD), and the file is deleted as soon as the
# server has started once. It is printed here, once; nothing else keeps it.
have_database=0
for d in "${STATE_DIRS[@]}"; do
  if [ -f "$DESTDIR$d/$NAME.sqlite" ]; then have_database=1; fi
done
show_password=""
if [ "$have_database" -eq 1 ]; then
  [ -z "$new_password" ] || say "admin password NOT changed: the server already has one (change it on the admin page)"
  remove "$FIRST_PASSWORD"
elif [ -f "$DESTDIR$FIRST_PASSWORD" ] && [ -z "$new_password" ]; then
  say "the first admin password is waiting in $FIRST_PASSWORD (shown by the earlier run)"
else
  if [ -z "$new_password" ]; then
    new_password="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-HJ-NP-Za-km-z2-9' | cut -c1-16)"
    show_password="$new_password"
  fi
  mkdir -p "$DESTDIR$CONFDIR"
  chmod 0700 "$DESTDIR$CONFDIR"
  put_text "$FIRST_PASSWORD" 0600 <<<"M32_ADMIN_PASSWORD=\"$new_password\"" || true
fi

# --- host name ------------------------------------------------------------------------
current_hostname="$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null || echo localhost)"
target_hostname=""
if [ -n "$want_hostname" ]; then
  target_hostname="$want_hostname"
elif [ "$keep_hostname" -eq 0 ] && [ "$current_hostname" != "$DEFAULT_HOSTNAME" ]; then
  if [ "$assume_yes" -eq 1 ]; then
    target_hostname="$DEFAULT_HOSTNAME"
  elif ! staging && { : </dev/tty; } 2>/dev/null; then
    printf '[install] Rename this machine from "%s" to "%s", so phones find it as %s.local? [Y/n] ' \
      "$current_hostname" "$DEFAULT_HOSTNAME" "$DEFAULT_HOSTNAME" >/dev/tty
    answer=""
    IFS= read -r answer </dev/tty || true
    case "$answer" in "" | [Yy]*) target_hostname="$DEFAULT_HOSTNAME" ;; esac
  else
    say "host name left as \"$current_hostname\" (no terminal to ask): pass --hostname $DEFAULT_HOSTNAME to rename"
  fi
fi
if [ -n "$target_hostname" ] && [ "$target_hostname" != "$current_hostname" ]; then
  if staging; then
    would "hostnamectl set-hostname $target_hostname (and 127.0.1.1 in /etc/hosts)"
  else
    hostnamectl set-hostname "$target_hostname" 2>/dev/null || {
      printf '%s\n' "$target_hostname" >/etc/hostname
      hostname "$target_hostname"
    }
    if grep -q '^127\.0\.1\.1[[:space:]]' /etc/hosts; then
      sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$target_hostname/" /etc/hosts
    else
      printf '127.0.1.1\t%s\n' "$target_hostname" >>/etc/hosts
    fi
    say "host name is now $target_hostname ($target_hostname.local on the network)"
    system systemctl restart avahi-daemon.service || true
  fi
fi
mdns_name="${target_hostname:-$current_hostname}.local"

# --- services ---------------------------------------------------------------------------
if [ "$unit_changed" -eq 1 ]; then system systemctl daemon-reload; fi
system systemctl enable avahi-daemon.service || true
if [ "$avahi_changed" -eq 1 ]; then
  system systemctl reload-or-restart avahi-daemon.service || true
fi
system systemctl enable "$NAME.service"
if [ "$start" -eq 1 ]; then
  # Type=notify: systemctl returns once the server is listening (READY=1).
  if [ "$restart" -eq 1 ]; then
    system systemctl restart "$NAME.service"
  else
    system systemctl start "$NAME.service"
  fi
  if ! staging; then
    systemctl is-active --quiet "$NAME.service" ||
      die "the service did not start: journalctl -u $NAME.service -n 50"
    for d in "${STATE_DIRS[@]}"; do
      if [ -f "$d/$NAME.sqlite" ]; then remove "$FIRST_PASSWORD"; break; fi
    done
  fi
fi

# --- summary ------------------------------------------------------------------------------
[ "$changed" -eq 1 ] || say "nothing to change: already installed"
say "admin page: http://$mdns_name:$http_port/admin/"
if [ -n "$show_password" ]; then
  say "first admin password (shown only now; change it on the admin page): $show_password"
fi
if staging; then say "staged under $DESTDIR"; fi
