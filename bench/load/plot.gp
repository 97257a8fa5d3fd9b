# Plots of a compare.sh run (compare.sh --plots DIR writes the data and calls this):
#   gnuplot -e "dir='DIR'; kind='chat'; servers='parley prosody ejabberd'" bench/load/plot.gp
# kind is chat (one-to-one) or muc<n> (groupchat in rooms of n; the load is the fan-out, reflections a second).
# Reads DIR/<kind>-<server>.dat (columns: offered, delivered/s, p50, p99, p99.9 in ms, server CPU µs per delivery)
# and writes DIR/<kind>-throughput.svg, DIR/<kind>-latency.svg and DIR/<kind>-cpu.svg.
set terminal svg size 760,480 dynamic font "sans,12" background "white"
set key top left box opaque
set grid
if (!exists("kind")) kind = "chat"
muc = kind ne "chat"
what = muc ? sprintf("groupchat in rooms of %s", kind[4:]) : "one-to-one chat"
unit = muc ? "reflections" : "messages"
set xlabel sprintf("offered %s per second", unit)
file(s) = sprintf("%s/%s-%s.dat", dir, kind, s)

set output sprintf("%s/%s-throughput.svg", dir, kind)
set title sprintf("Delivered against offered (%s, STARTTLS, 2 cores shared with the generator)", what)
set ylabel sprintf("delivered %s per second", unit)
set xrange [0:*]
set yrange [0:*]
plot for [s in servers] file(s) using 1:2 with linespoints lw 2 pt 7 title s, \
     x with lines dt 2 lc rgb "gray" title "offered"

set output sprintf("%s/%s-latency.svg", dir, kind)
set title sprintf("End-to-end latency against offered load, %s (p50 thin, p99 thick)", what)
set ylabel "milliseconds (log scale)"
set logscale y
set yrange [*:*]
plot for [i=1:words(servers)] file(word(servers, i)) using 1:3 with linespoints lw 1 pt 6 lc i title word(servers, i)." p50", \
     for [i=1:words(servers)] file(word(servers, i)) using 1:4 with linespoints lw 3 pt 7 lc i title word(servers, i)." p99"
unset logscale y

set output sprintf("%s/%s-cpu.svg", dir, kind)
set title sprintf("Server CPU time per delivered %s", muc ? "reflection" : "message")
set ylabel "microseconds"
set yrange [0:*]
plot for [s in servers] file(s) using 1:6 with linespoints lw 2 pt 7 title s
