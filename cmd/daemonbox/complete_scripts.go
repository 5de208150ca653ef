package main

// completionScripts are daemonbox's completion scripts, one a shell. Each
// asks `daemonbox __complete` (complete.go) what to offer and acts on the
// directive: candidates alone, files with the given extensions (and
// directories to reach them), directories, or any file. For a word
// --flag=value, daemonbox answers for the value, and the script completes
// the part after "=".
var completionScripts = map[string]string{"bash": bashScript, "zsh": zshScript, "fish": fishScript}

const bashScript = `# bash completion for daemonbox; it uses the bash-completion package's
# helpers when they are loaded. Load it with: source <(daemonbox completion bash)

__daemonbox_complete() {
	local cur words cword
	if declare -F _get_comp_words_by_ref >/dev/null; then
		_get_comp_words_by_ref -n =: cur words cword
	else
		__daemonbox_words
	fi
	local prog=${words[0]}
	[[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
	local out
	out=$("$prog" __completeNoDesc "${words[@]:1:cword}" 2>/dev/null) || return
	local directive=${out##*:} line
	local -a cands=()
	while IFS= read -r line; do
		[[ -n $line ]] && cands+=("$line")
	done <<<"${out%:*}"
	# readline completes what follows "=" of --flag=value as a word
	[[ $cur == --*=* ]] && cur=${cur#*=}
	COMPREPLY=()
	if (( directive & 16 )); then
		__daemonbox_files -d
	elif (( directive & 8 )); then
		local IFS='|'
		__daemonbox_files "${cands[*]}"
	elif (( directive & 4 || ${#cands[@]} > 0 )); then
		local IFS=$'\n'
		mapfile -t COMPREPLY < <(compgen -W "${cands[*]}" -- "$cur")
	else
		__daemonbox_files
	fi
}

# __daemonbox_words sets words, cword and cur from bash's own COMP_WORDS,
# whose words break at "=": --flag = value is one word again.
__daemonbox_words() {
	local i w
	words=() cword=-1
	for (( i = 0; i <= COMP_CWORD; i++ )); do
		w=${COMP_WORDS[i]}
		if (( cword >= 0 )) && { [[ $w == "=" && ${words[cword]} == --* && ${words[cword]} != *=* ]] ||
			[[ ${words[cword]} == --*= && ${COMP_WORDS[i-1]} == "=" ]]; }; then
			words[cword]+=$w
		else
			words+=("$w")
			(( cword++ ))
		fi
	done
	cur=${words[cword]}
}

# __daemonbox_files [-d | EXT|EXT...] completes $cur as directories, as
# files with one of the extensions and directories, or as any file.
__daemonbox_files() {
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
		return
	fi
	compopt -o filenames 2>/dev/null
	local extglob
	extglob=$(shopt -p extglob)
	shopt -s extglob
	if [[ $1 == -d ]]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	elif [[ -n $1 ]]; then
		mapfile -t COMPREPLY < <(compgen -f -X "!*.@($1)" -o plusdirs -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
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
	local out directive line name desc prog=${words[1]/#\~/$HOME}
	local -a lines cands exts
	out=$("$prog" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
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
	if [[ ${words[CURRENT]} == --*=* ]]; then
		# --flag=value: the value alone is completed
		compset -P '*='
		if (( directive & 16 )); then
			_files -/
		elif (( directive & 8 )); then
			_files -g "*.(${(j:|:)exts})"
		elif (( ${#cands} )); then
			_describe 'daemonbox' cands
		fi
		return
	fi
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
    set -l prog (string replace -r '^~/' "$HOME/" -- $words[1])
    command -q $prog; or return
    set -l out ($prog __complete $words[2..-1] "$cur" 2>/dev/null)
    or return
    set -l directive (string sub -s 2 -- $out[-1])
    set -e out[-1]
    # --flag=value: daemonbox answers for the value; fish replaces the word
    set -l prefix (string match -r -- '^--[^=]*=' $cur)
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories
    else if test (math "bitand($directive, 8)") -ne 0
        # fish's own file completion (quotes, escapes, ~), kept to the
        # extensions and directories
        for f in (__fish_complete_suffix .$out[1])
            set -l path (string split -f1 \t -- $f)
            if string match -q -- '*/' $path
                printf '%s\n' $f
                continue
            end
            for ext in $out
                if string match -q -- "*.$ext" $path
                    printf '%s\n' $f
                    break
                end
            end
        end
    else if test (math "bitand($directive, 4)") -ne 0; or set -q out[1]
        printf "$prefix%s\n" $out
    else
        __fish_complete_suffix ''
    end
end

complete -c daemonbox -f -a '(__daemonbox_complete)'
`
