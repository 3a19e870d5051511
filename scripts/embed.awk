# Turns a text file into a C string constant: awk -v name=NAME -f embed.awk FILE
# (escapes character by character: gsub's backslash rules differ between awks)
BEGIN { printf "/* generated from %s by scripts/embed.awk: do not edit */\n", ARGV[1]; printf "const char %s[] =\n", name }
{
    out = ""
    for (i = 1; i <= length($0); i++) {
        c = substr($0, i, 1)
        if (c == "\\") out = out "\\\\"
        else if (c == "\"") out = out "\\\""
        else if (c == "\t") out = out "\\t"
        else if (c == "?") out = out "\\?"
        else out = out c
    }
    printf "    \"%s\\n\"\n", out
}
END { print "    \"\";" }
