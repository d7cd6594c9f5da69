// Speed probe (not in CI): Icarus cycles per wall second of p2m_top while integrating
// (TICK_DIV=100, WINDOW_LEN=100 -> a window every 10,000 cycles, no spikes), vs. an empty
// clocked loop. Run:  iverilog -g2005 -o /tmp/speed.vvp -s tb_speed $(grep -v '^#' rtl/files.f) rtl/sim/tb_speed.v
//                     time vvp -n /tmp/speed.vvp +cycles=2000000 [+bare]
`timescale 1ns/1ps
module tb_speed;
    reg clk = 0, rst_n = 0;
    always #5 clk = ~clk;
    reg psel = 0, penable = 0, pwrite = 0; reg [11:0] paddr = 0; reg [31:0] pwdata = 0;
    wire [31:0] prdata; wire pready, pslverr, aer_req; wire [12:0] aer_addr;
    wire ana_sample, ana_rst, ana_rst_all, ana_prog, ana_prog_dir, irq;
    wire [4:0] ana_ch_sel, ana_rst_ch; wire [255:0] ana_rst_mask; wire [1:0] ana_prog_target;
    wire [9:0] ana_prog_index; wire [2:0] phase;
    reg [255:0] ana_flags = 0;
    p2m_top dut (.clk(clk), .rst_n(rst_n), .psel(psel), .penable(penable), .pwrite(pwrite),
        .paddr(paddr), .pwdata(pwdata), .prdata(prdata), .pready(pready), .pslverr(pslverr),
        .aer_req(aer_req), .aer_ack(aer_req), .aer_addr(aer_addr),
        .ana_sample(ana_sample), .ana_ch_sel(ana_ch_sel), .ana_flags(ana_flags),
        .ana_rst(ana_rst), .ana_rst_all(ana_rst_all), .ana_rst_ch(ana_rst_ch),
        .ana_rst_mask(ana_rst_mask), .ana_prog(ana_prog), .ana_prog_target(ana_prog_target),
        .ana_prog_index(ana_prog_index), .ana_prog_dir(ana_prog_dir), .phase(phase), .irq(irq));
`ifdef NOGATE
    defparam dut.CLK_GATE = 0;
`endif
    integer n = 1000000, nwin = 0;
    always @(posedge ana_sample) nwin = nwin + 1;
    integer ngclk = 0;
`ifdef COUNT_GATED
    always @(posedge dut.clk_act) ngclk = ngclk + 1;
`endif
    task apbw(input [11:0] a, input [31:0] d);
        begin
            @(posedge clk); #1 psel = 1; penable = 0; pwrite = 1; paddr = a; pwdata = d;
            @(posedge clk); #1 penable = 1;
            @(posedge clk); #1 psel = 0; penable = 0; pwrite = 0;
        end
    endtask
    initial begin
        if ($value$plusargs("cycles=%d", n)) ;
        repeat (2) @(posedge clk); #1 rst_n = 1;
        if (!$test$plusargs("bare")) begin
            apbw(12'h010, 100); apbw(12'h004, 1);
        end
        repeat (n) @(posedge clk);
        $display("%0d cycles, %0d windows, %0d gated edges", n, nwin, ngclk);
        $finish;
    end
endmodule
