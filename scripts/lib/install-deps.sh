#!/usr/bin/env bash
# Installs the system packages DSDC needs on Debian or Ubuntu, skipping what is already there:
# PostgreSQL with pgvector, Tesseract 5 (English) with Leptonica, and MuPDF's command-line renderer for PDF pages.
# Usage: scripts/lib/install-deps.sh [--browser] [--test]
#   --browser  adds Chromium for the UI tests
#   --test     adds what only the tests need: Debian's docker-compose (validates docker-compose.yml) and prometheus
#              (promtool checks monitoring/prometheus/prometheus.yml; a real Prometheus scrapes the app)
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

packages=(postgresql postgresql-contrib tesseract-ocr tesseract-ocr-eng libtesseract5 mupdf-tools ca-certificates curl)
for arg in "$@"; do
  case "$arg" in
    --browser) packages+=(chromium fonts-dejavu-core) ;;
    --test) packages+=(docker-compose prometheus) ;;
    *) echo "install-deps: unknown option '$arg' (known: --browser, --test)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

apt_updated=0
apt_update() { [ "$apt_updated" = 1 ] || { $SUDO apt-get update -qq; apt_updated=1; }; }

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt_update
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's package starts and enables a Prometheus server on 0.0.0.0:9090: the tests only need its binaries (they
  # start their own on a free loopback port), and a server left running would take the port docker compose publishes.
  if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/prometheus ]; then
      $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
  fi
fi

# pgvector: a distribution package where one exists, otherwise built from Debian's source package; for the version of
# DSDC_PG_CLUSTER when one is chosen (e.g. 15/main), else the newest installed, the one start.sh then picks.
pg_major=${DSDC_PG_CLUSTER:-}; pg_major=${pg_major%%/*}
[ -n "$pg_major" ] || pg_major=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
[ -d "/usr/lib/postgresql/$pg_major" ] || { echo "install-deps: DSDC_PG_CLUSTER names PostgreSQL $pg_major, which is not installed" >&2; exit 1; }
sharedir="/usr/share/postgresql/$pg_major"
if [ ! -f "$sharedir/extension/vector.control" ]; then
  apt_update
  if apt-cache show "postgresql-$pg_major-pgvector" >/dev/null 2>&1; then
    echo "install-deps: installing postgresql-$pg_major-pgvector"
    $SUDO apt-get install -y -qq --no-install-recommends "postgresql-$pg_major-pgvector" >/dev/null
  else
    echo "install-deps: building pgvector from Debian's source package (about 30 s)"
    $SUDO apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$pg_major" build-essential dpkg-dev >/dev/null
    pg_config_bin="/usr/lib/postgresql/$pg_major/bin/pg_config"
    # The Debian archive this machine already uses (the source that serves its own release, not a third party's
    # repository, the security archive or a CD-ROM), so mirrors keep working.
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    mirror=$(awk -v c="$codename" '
      FNR == 1 || /^[[:space:]]*$/ { if (u != "" && s && !k) print u; u = ""; s = 0; k = 0 }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); split($0, f, /[[:space:]]+/); u = f[1] }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) s = 1 }
      /^Signed-By:/ && !/debian-archive-keyring/ { k = 1 }
      /^Enabled:[[:space:]]*no/ { k = 1 }
      END { if (u != "" && s && !k) print u }' /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -v -e security -e '^cdrom:' | head -n 1 || true)
    [ -n "$mirror" ] || mirror=$(awk '!/signed-by=/ || /debian-archive-keyring/' /etc/apt/sources.list 2>/dev/null | sed -E 's/\[[^]]*\]//' \
      | awk -v c="$codename" '$1 == "deb" && $3 == c && $2 !~ /^cdrom:/ && $2 !~ /security/ { print $2; exit }' || true)
    [ -n "$mirror" ] || { echo "install-deps: no Debian archive found in the apt sources" >&2; exit 1; }
    src_list=/etc/apt/sources.list.d/dsdc-pgvector-src.sources
    printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" | $SUDO tee "$src_list" >/dev/null
    $SUDO apt-get update -qq
    work=$(mktemp -d) && chmod 755 "$work"   # apt's download user must be able to write there
    trap 'rm -rf "$work"; $SUDO rm -f "$src_list"' EXIT
    (cd "$work" && apt-get source --download-only -qq pgvector >/dev/null && tar xf pgvector_*.orig.tar.* && cd pgvector-*/ \
      && make -s PG_CONFIG="$pg_config_bin" >/dev/null && $SUDO make -s install PG_CONFIG="$pg_config_bin" >/dev/null)
    $SUDO rm -f "$src_list"
    $SUDO apt-get update -qq
  fi
fi
[ -f "$sharedir/extension/vector.control" ] || { echo "install-deps: pgvector is still missing after install" >&2; exit 1; }
echo "install-deps: PostgreSQL $pg_major with pgvector, $(tesseract --version 2>&1 | head -n 1), $(mutool -v 2>&1 | head -n 1)"
