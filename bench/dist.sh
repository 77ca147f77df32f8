# Sourced by bench/*/run (from the repository root): the benchmarks measure the release
# artifacts as users install them, scripts/dist's output. DIST names the directory
# (default dist/); when dist/ does not exist, scripts/dist builds it first for this machine's
# target (slow: the whole release build).
#
#   dist_artifact GLOB    prints the one file of $DIST matching GLOB, or fails
#   install_wheel VENV    creates VENV if absent and installs this machine's release wheel into it
#   comparison_venv VENV REQUIREMENTS
#                         creates VENV with the pinned comparison libraries (once per content of
#                         REQUIREMENTS)

DIST="${DIST:-$PWD/dist}"
if [[ ! -d "$DIST" ]]; then
    if [[ "$DIST" != "$PWD/dist" ]]; then
        echo "bench: DIST=$DIST does not exist" >&2
        exit 1
    fi
    echo "==> no dist/: building the release artifacts (scripts/dist)"
    scripts/dist "$(rustc -vV | sed -n 's/^host: //p')"
fi

dist_artifact() {
    local matches=("$DIST"/$1)
    if ((${#matches[@]} != 1)) || [[ ! -f "${matches[0]}" ]]; then
        echo "bench: expected one $1 in $DIST, found: ${matches[*]}" >&2
        return 1
    fi
    printf '%s\n' "${matches[0]}"
}

install_wheel() {
    local venv="$1" wheel
    wheel="$(dist_artifact "starfleet_secrets-*_$(uname -m).whl")"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    echo "==> release wheel $wheel into $venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
}

comparison_venv() {
    local venv="$1" requirements="$2" want stamp="$1/.requirements.sha256"
    want="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
        rm -f "$stamp"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
        printf '%s\n' "$want" >"$stamp"
    fi
}
