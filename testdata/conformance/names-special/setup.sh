mkdir names
for n in 'with space' 'ünïcødé-名前' '-leading-dash' '#hash' '$dollar' "quote'single" 'quote"double' 'back\slash' 'star*' 'question?' '[brackets]' 'semi;colon' '%percent' '.hidden' '..dots' 'new
line' 'tab	tab' 'emoji-😀' '=equals' ':colon' '@at'; do
	printf '%s\n' "$n" > "names/$n"
done
echo space > 'with space.txt'
