#!/bin/sh
# A checkout of the design before issue 14 (every event to every server over one
# Redis channel, and to every subscription's listener), for `npm run bench --
# scale --before <dir>` and for running the `memory` scenario on it.
#
#   sh bench/before.sh [dir] [commit]      # default /tmp/chat-before, 327545f
#
# A detached git worktree; its node_modules is a directory of symlinks to this
# checkout's packages, plus the one package that design needed and this one
# dropped (@graphql-yoga/redis-event-target 3.0.4, unpacked by `npm pack`
# from the npm registry, checked against package-lock's integrity).
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/chat-before}
COMMIT=${2:-327545f}

if [ ! -e "$DIR/.git" ]; then
  git -C "$REPO" worktree add --detach "$DIR" "$COMMIT"
fi

mkdir -p "$DIR/node_modules"
for entry in "$REPO"/node_modules/* "$REPO"/node_modules/.bin; do
  name=$(basename "$entry")
  case "$name" in
    @graphql-yoga)
      mkdir -p "$DIR/node_modules/$name"
      for sub in "$entry"/*; do ln -sfn "$sub" "$DIR/node_modules/$name/$(basename "$sub")"; done
      ;;
    *) [ -e "$DIR/node_modules/$name" ] || ln -s "$entry" "$DIR/node_modules/$name" ;;
  esac
done

TARGET="$DIR/node_modules/@graphql-yoga/redis-event-target"
if [ ! -f "$TARGET/package.json" ]; then
  WANT=$(git -C "$DIR" show HEAD:package-lock.json | grep -A3 '"node_modules/@graphql-yoga/redis-event-target"' | sed -n 's/.*"integrity": "\(.*\)".*/\1/p')
  TMP=$(mktemp -d)
  (cd "$TMP" && npm pack @graphql-yoga/redis-event-target@3.0.4 --silent >/dev/null)
  GOT="sha512-$(openssl dgst -sha512 -binary "$TMP"/*.tgz | base64 -w0)"
  if [ "$GOT" != "$WANT" ]; then
    echo "integrity mismatch: $GOT vs $WANT" >&2
    exit 1
  fi
  mkdir -p "$TARGET"
  tar xzf "$TMP"/*.tgz -C "$TARGET" --strip-components=1
  rm -rf "$TMP"
fi
echo "$DIR: $(git -C "$DIR" log --oneline -1)"
