# Plots of a compare.sh run (compare.sh --plots DIR writes the data and calls this):
#   gnuplot -e "dir='DIR'; servers='parley prosody ejabberd'" bench/load/plot.gp
# Reads DIR/chat-<server>.dat (columns: offered, delivered/s, p50, p99, p99.9 in ms, server CPU µs per message)
# and writes DIR/chat-throughput.svg, DIR/chat-latency.svg and DIR/chat-cpu.svg.
set terminal svg size 760,480 dynamic font "sans,12" background "white"
set key top left box opaque
set grid
set xlabel "offered chat messages per second"
file(s) = sprintf("%s/chat-%s.dat", dir, s)

set output sprintf("%s/chat-throughput.svg", dir)
set title "Delivered against offered (one-to-one chat, STARTTLS, 2 cores shared with the generator)"
set ylabel "delivered messages per second"
set xrange [0:*]
set yrange [0:*]
plot for [s in servers] file(s) using 1:2 with linespoints lw 2 pt 7 title s, \
     x with lines dt 2 lc rgb "gray" title "offered"

set output sprintf("%s/chat-latency.svg", dir)
set title "End-to-end latency against offered load (p50 thin, p99 thick)"
set ylabel "milliseconds (log scale)"
set logscale y
set yrange [*:*]
plot for [i=1:words(servers)] file(word(servers, i)) using 1:3 with linespoints lw 1 pt 6 lc i title word(servers, i)." p50", \
     for [i=1:words(servers)] file(word(servers, i)) using 1:4 with linespoints lw 3 pt 7 lc i title word(servers, i)." p99"
unset logscale y

set output sprintf("%s/chat-cpu.svg", dir)
set title "Server CPU time per delivered message"
set ylabel "microseconds"
set yrange [0:*]
plot for [s in servers] file(s) using 1:6 with linespoints lw 2 pt 7 title s
