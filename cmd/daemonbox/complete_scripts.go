package main

// completionScripts are daemonbox's completion scripts, one a shell. Each
// asks `daemonbox __complete` (complete.go) what to offer and acts on the
// directive: candidates alone, files with the given extensions (and
// directories to reach them), directories, or any file.
var completionScripts = map[string]string{"bash": bashScript, "zsh": zshScript, "fish": fishScript}

const bashScript = `# bash completion for daemonbox; it uses the bash-completion package's
# helpers when they are loaded. Load it with: source <(daemonbox completion bash)

__daemonbox_complete() {
	local cur words cword
	if declare -F _get_comp_words_by_ref >/dev/null; then
		_get_comp_words_by_ref -n =: cur words cword
	else
		cur=${COMP_WORDS[COMP_CWORD]} words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	fi
	local out
	out=$("${words[0]}" __completeNoDesc "${words[@]:1:cword}" 2>/dev/null) || return
	local directive=${out##*:} line
	local -a cands=()
	while IFS= read -r line; do
		[[ -n $line ]] && cands+=("$line")
	done <<<"${out%:*}"
	COMPREPLY=()
	if (( directive & 16 )); then
		__daemonbox_files -d
	elif (( directive & 8 )); then
		local IFS='|'
		__daemonbox_files "${cands[*]}"
	elif (( directive & 4 || ${#cands[@]} > 0 )); then
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "${cands[*]}" -- "$cur"))
	else
		__daemonbox_files
	fi
}

# __daemonbox_files [-d | EXT|EXT...] completes $cur as directories, as
# files with one of the extensions and directories, or as any file.
__daemonbox_files() {
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
		return
	fi
	compopt -o filenames 2>/dev/null
	local IFS=$'\n' extglob
	extglob=$(shopt -p extglob)
	shopt -s extglob
	if [[ $1 == -d ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
	elif [[ -n $1 ]]; then
		COMPREPLY=($(compgen -f -X "!*.@($1)" -o plusdirs -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
	eval "$extglob"
}

__start_daemonbox() {
	__daemonbox_complete
}

complete -F __start_daemonbox daemonbox
`

const zshScript = `#compdef daemonbox
# zsh completion for daemonbox. Load it with: source <(daemonbox completion zsh)
# after compinit, or save it as _daemonbox in a directory of $fpath.

_daemonbox() {
	local out directive line name desc
	local -a lines cands exts
	out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
	lines=("${(@f)out}")
	directive=${lines[-1]#:}
	lines=("${(@)lines[1,-2]}")
	for line in "${lines[@]}"; do
		[[ -n $line ]] || continue
		name=${line%%$'\t'*}
		desc=
		[[ $line == *$'\t'* ]] && desc=${line#*$'\t'}
		name=${name//:/\\:}
		cands+=("$name${desc:+:$desc}")
		exts+=("$name")
	done
	if (( directive & 16 )); then
		_arguments '*:directory:_files -/'
	elif (( directive & 8 )); then
		if (( ${#exts} == 1 )); then
			_arguments "*:file:_files -g \\*.${exts[1]}"
		else
			_arguments "*:file:_files -g \\*.\\(${(j:\\|:)exts}\\)"
		fi
	elif (( directive & 4 || ${#cands} )); then
		_describe 'daemonbox' cands
	else
		_arguments '*:file:_files'
	fi
}

compdef _daemonbox daemonbox
`

const fishScript = `# fish completion for daemonbox. Load it with: daemonbox completion fish | source

function __daemonbox_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] "$cur" 2>/dev/null)
    or return
    set -l directive (string sub -s 2 -- $out[-1])
    set -e out[-1]
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories "$cur"
    else if test (math "bitand($directive, 8)") -ne 0
        for f in (__fish_complete_path "$cur")
            set -l path (string split -f1 \t -- $f)
            if string match -q -- '*/' $path
                printf '%s\n' $f
                continue
            end
            for ext in $out
                if string match -q -- "*.$ext" $path
                    printf '%s\n' $f
                end
            end
        end
    else if test (math "bitand($directive, 4)") -ne 0; or set -q out[1]
        printf '%s\n' $out
    else
        __fish_complete_path "$cur"
    end
end

complete -c daemonbox -f -a '(__daemonbox_complete)'
`
