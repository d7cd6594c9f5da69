// Pure-Verilog speed harness (no cocotb): the cocotb toplevel p2m_tb (tb/hdl/p2m_tb.v:
// p2m_top, the clock models, the HDL agents) driven from Verilog instead of Python, so
// that its cost is the simulator's own, the reference for what cocotb adds
// (bench/bench_rtl.py runs it under Icarus and Verilator).
//   iverilog -g2012 -DEN=1 -o speed.vvp $(grep -v '^#' rtl/files.f) tb/hdl/p2m_tb_agents.v \
//       tb/hdl/p2m_tb.v tb/hdl/speed_harness.v && vvp -n speed.vvp
//   and under Verilator: --binary --timing --top-module speed_harness -DEN=1 (same files)
// EN=1: every flag of every channel set, windows of WLEN ticks (TICK_DIV = 1), the HDL AER
// receiver answering at once (the readout-heavy load). EN=0: the chip idles with EN written
// 1 (windows of WLEN ticks, no spike): the slow domain's cost. RUN_US: simulated
// microseconds after the configuration. DELAY_PS: the HDL receiver's largest acknowledge and
// release delays (0: it answers at once). Prints the edge and event counts.
`timescale 1ps / 1ps
`ifndef EN
`define EN 1
`endif
`ifndef RUN_US
`define RUN_US 2000
`endif
`ifndef WLEN
`define WLEN 200
`endif
`ifndef DELAY_PS
`define DELAY_PS 0
`endif
module speed_harness;
    p2m_tb u_tb ();

    task wr(input [11:0] a, input [31:0] d);
        begin
            @(posedge u_tb.clk); #1000 u_tb.psel = 1'b1; u_tb.pwrite = 1'b1;
            u_tb.paddr = a; u_tb.pwdata = d;
            @(posedge u_tb.clk); #1000 u_tb.penable = 1'b1;
            @(posedge u_tb.clk); #1000 u_tb.psel = 1'b0; u_tb.penable = 1'b0;
        end
    endtask

    integer e0, s0, samples = 0;
    always @(posedge u_tb.ana_sample) samples = samples + 1;
    initial begin
        u_tb.host_clk_req = 1'b1;
        u_tb.hdl_aer = 1'b1;                       // the HDL receiver
        u_tb.u_aer_rx.max_ack_ps = `DELAY_PS;
        u_tb.u_aer_rx.max_rel_ps = `DELAY_PS;
        u_tb.ana_flags = `EN ? ~0 : 0;               // all flags set, or none
        #1000 u_tb.rst_n = 1'b0;                   // an edge: the asynchronous reset
        #2_000_000 u_tb.rst_n = 1'b1;              // after two clk_slow edges
        repeat (30) @(posedge u_tb.clk);           // the power-up global reset
        wr(12'h00C, 1);
        wr(12'h010, `WLEN);
        wr(12'h004, 1);
        #1000 u_tb.host_clk_req = 1'b0;
        e0 = u_tb.u_clk_src.edges;
        s0 = u_tb.u_slow.edges;
        #(`RUN_US * 64'd1_000_000);
        $display("speed_harness: EN=%0d run_us=%0d clk_edges=%0d clk_slow_edges=%0d samples=%0d events=%0d",
                 `EN, `RUN_US, u_tb.u_clk_src.edges - e0, u_tb.u_slow.edges - s0, samples,
                 u_tb.u_aer_rx.ev_total);
        $finish;
    end
endmodule
