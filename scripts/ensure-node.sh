# Source this file (`. scripts/ensure-node.sh`) to run Vigil on Node.js 24, the LTS it is built and
# tested on. When the shell's `node` is older, it fetches Node 24's official binary from the npm
# registry (the `node-<platform>-<arch>` package that the registry's `node` package installs), keeps
# it in ~/.cache/vigil/node-24 (VIGIL_NODE_HOME to choose), and puts it first on PATH. It also points
# npm at that Node's headers (npm_config_nodedir), so native modules (better-sqlite3) build for it
# without downloading headers. Only the npm registry is needed; nothing is installed system-wide.
vigil_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$vigil_node_major" -lt 24 ]; then
  vigil_node_home="${VIGIL_NODE_HOME:-${HOME:-/tmp}/.cache/vigil/node-24}"
  if [ ! -x "$vigil_node_home/bin/node" ]; then
    vigil_node_platform=$(uname -s | tr 'A-Z' 'a-z')
    case "$(uname -m)" in x86_64 | amd64) vigil_node_arch=x64 ;; aarch64 | arm64) vigil_node_arch=arm64 ;; *) vigil_node_arch=$(uname -m) ;; esac
    vigil_node_tmp=$(mktemp -d)
    echo "ensure-node: fetching Node.js 24 (node-$vigil_node_platform-$vigil_node_arch) from the npm registry" >&2
    if (cd "$vigil_node_tmp" && npm pack --silent "node-$vigil_node_platform-$vigil_node_arch@24" >/dev/null); then
      mkdir -p "$vigil_node_home" && tar -xzf "$vigil_node_tmp"/node-*.tgz -C "$vigil_node_home" --strip-components=1
    else
      echo "ensure-node: could not fetch Node.js 24; install it (https://nodejs.org) and retry" >&2
    fi
    rm -rf "$vigil_node_tmp"
  fi
  if [ -x "$vigil_node_home/bin/node" ]; then
    PATH="$vigil_node_home/bin:$PATH"
    npm_config_nodedir="$vigil_node_home"
    export PATH npm_config_nodedir
  fi
fi
unset vigil_node_major vigil_node_home vigil_node_platform vigil_node_arch vigil_node_tmp
