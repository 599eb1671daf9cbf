# Prints the mainloop of one kernel's SASS (the `cuobjdump -sass` text of a single function).
# A loop is closed by a backward branch: "BRA <target>" at address A with target T <= A spans
# the instructions [T, A]. The mainloop is the smallest loop that holds an instruction whose
# opcode matches the extended regex `want` (e.g. GMMA, HMMA). Output: a first line
# "# loop 0xT-0xA" (or "# no loop" when none holds `want`), then one instruction per line,
# predicate dropped, e.g. "HGMMA.64x256x16.F32.BF16 R24, gdesc[UR16], R24".
# Usage: awk -v want=GMMA -f scripts/sass-mainloop.awk kernel.sass
function hex(s,   i, v) {  # mawk has no strtonum
  v = 0
  for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
  return v
}
{
  if (match($0, /\/\*[0-9a-f]+\*\//) == 0) next
  addr = hex(substr($0, RSTART + 2, RLENGTH - 4))
  text = substr($0, RSTART + RLENGTH)
  sub(/;.*/, "", text); sub(/^[ \t]+/, "", text); sub(/^@!?U?P[0-9T] +/, "", text)
  n++; a[n] = addr; ins[n] = text
  if (text ~ /^BRA +0x[0-9a-f]+/ || text ~ /^BRA\.U +/) {
    # "BRA 0x1850", "BRA.U !UP0, 0x2cc0": the target is the operand that is an address (a
    # uniform branch's predicate comes first; read as an address it made a bogus backward branch).
    split(text, w, /[ ,]+/); tgt = w[2]; if (tgt !~ /^0x/) tgt = w[3]; t = hex(substr(tgt, 3))
    if (t <= addr) { nl++; ls[nl] = t; le[nl] = addr }
  }
}
END {
  best = 0
  for (l = 1; l <= nl; l++) {
    if (best && le[l] - ls[l] >= le[best] - ls[best]) continue
    for (i = 1; i <= n; i++)
      if (a[i] >= ls[l] && a[i] <= le[l] && split(ins[i], w, / +/) && w[1] ~ want) { best = l; break }
  }
  if (!best) { print "# no loop"; exit }
  printf "# loop 0x%x-0x%x\n", ls[best], le[best]
  for (i = 1; i <= n; i++) if (a[i] >= ls[best] && a[i] <= le[best]) print ins[i]
}
