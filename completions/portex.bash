# SPDX-License-Identifier: MIT
# bash completion for portex: the commands are listed here, each command's options and
# the names taken by --modes are read from `portex CMD --help` at completion time, so a
# new option completes without touching this file. Installed as
# /usr/share/bash-completion/completions/portex.

_portex_commands="run serve compare lab doctor merge ramp watch"

# The long and short options a help text lists ("  -c, --connections N", "  -4, --ipv4",
# "--body --timeout").
_portex_options() {
    local text=$1
    {
        grep -oE -- '(^|[[:space:],(])--[a-z][a-z0-9-]*' <<<"$text" | sed 's/^[^-]*//'
        grep -oE -- '^[[:space:]]+-[A-Za-z0-9],' <<<"$text" | sed 's/^[[:space:]]*//; s/,$//'
    } | sort -u
}

# The long names of the short options a "load options as for portex run: -c -r ..." paragraph
# lists (compare, ramp): their help names them by the short form only.
_portex_shared_long() {
    local help=$1 run_help=$2 opt
    # shellcheck disable=SC2013 # words (the short options), not lines
    for opt in $(awk '/load options as for portex run/{on=1; sub(/.*: /, ""); print; next}
                      on && /^  [^ ]/{print; next}
                      on{exit}' <<<"$help" | grep -oE -- '(^|[[:space:]])-[A-Za-z0-9]\b'); do
        grep -oE -- "^[[:space:]]+$opt, --[a-z][a-z0-9-]*" <<<"$run_help" | sed 's/.* //'
    done
}

# The options a help text shows with a value: "--name VALUE" with one space between.
_portex_valued() {
    grep -oE -- '--[a-z][a-z0-9-]* [^ -][^ ]*' <<<"$1" | cut -d' ' -f1
    grep -oE -- '^[[:space:]]+-[A-Za-z], --[a-z][a-z0-9-]* [^ -]' <<<"$1" |
        sed -E 's/^[[:space:]]*(-[A-Za-z]),.*/\1/'
}

# The mode names of "--modes LIST": the words of that entry, without its (remarks).
_portex_modes() {
    awk '/--modes /{on=1; sub(/.*--modes LIST/, ""); print; next}
         on && /^[[:space:]]+-/{exit}
         on && /^[[:space:]]+[a-z]/ && !/--/{print; next}
         on{exit}' <<<"$1" |
        sed -E 's/\([^)]*\)//g' | tr ', ' '\n' | grep -E '^[a-z][a-z0-9-]*$' | grep -vx 'or'
}

_portex() {
    local cur prev bin cmd help run_help
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    bin=${COMP_WORDS[0]}
    COMPREPLY=()

    if [ "$COMP_CWORD" -eq 1 ]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$_portex_commands" -- "$cur")
        fi
        return 0
    fi
    cmd=${COMP_WORDS[1]}
    command -v "$bin" >/dev/null 2>&1 || return 0
    help=$("$bin" "$cmd" --help 2>/dev/null) || return 0

    case $prev in
    --json | --csv | --svg | --hlog | --cacert | --cert | --key | --write-cert | --unix)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
        return 0
        ;;
    --body)
        if [[ $cur == @* ]]; then
            mapfile -t COMPREPLY < <(compgen -f -P @ -- "${cur#@}")
            compopt -o filenames 2>/dev/null
        fi
        return 0
        ;;
    --close)
        mapfile -t COMPREPLY < <(compgen -W "client server rst" -- "$cur")
        return 0
        ;;
    --tls-version)
        mapfile -t COMPREPLY < <(compgen -W "1.2 1.3" -- "$cur")
        return 0
        ;;
    --tls-resume)
        mapfile -t COMPREPLY < <(compgen -W "off ticket" -- "$cur")
        return 0
        ;;
    --modes)
        # A comma-separated list: complete the name after the last comma.
        local done_part="" word=$cur
        if [[ $cur == *,* ]]; then
            done_part=${cur%,*},
            word=${cur##*,}
        fi
        mapfile -t COMPREPLY < <(compgen -P "$done_part" -W "$(_portex_modes "$help")" -- "$word")
        compopt -o nospace 2>/dev/null
        return 0
        ;;
    --control)
        if [[ $cur == unix:* ]]; then
            mapfile -t COMPREPLY < <(compgen -f -P unix: -- "${cur#unix:}")
        else
            mapfile -t COMPREPLY < <(compgen -W "unix:" -- "$cur")
            compopt -o nospace 2>/dev/null
        fi
        return 0
        ;;
    esac

    # After an option that takes a value (per this command's or run's help), the value is free text.
    run_help=$("$bin" run --help 2>/dev/null)
    if [[ $prev == -* ]] && { _portex_valued "$help"; _portex_valued "$run_help"; } | grep -qx -- "$prev"; then
        return 0
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_portex_options "$help") $(_portex_shared_long "$help" "$run_help")" -- "$cur")
        return 0
    fi
    # merge takes result files; the other commands a URL, which is not completed.
    if [ "$cmd" = merge ]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
    return 0
}
complete -F _portex portex
