// Smoke bench of p2m_top with a small, non-power-of-two geometry (not in CI; contract:
// rtl/REGISTERS.md): 3 channels, 3x5 neurons, FLAG_SETTLE = 1 (widths derived by the RTL).
// Checks every spike exactly once, in (channel, y, x) order, with addresses {ch, y, x},
// under random ack delays; the readout clock runs on request (clk_req) only.
//   iverilog -g2005 -o /tmp/small.vvp -s tb_small $(grep -v '^#' rtl/files.f) \
//            tb/hdl/p2m_tb_agents.v rtl/sim/tb_small.v
//   vvp -n /tmp/small.vvp [+seed=N]
`timescale 1ns/1ps
module tb_small;
    localparam NC = 3, H = 3, W = 5, CB = 2, YB = 2, XB = 3, NN = H * W, AW = CB + YB + XB;
    reg rst_n = 0, host_req = 1;
    wire clk, clk_slow, clk_req;
    p2m_tb_slow_clock #(.PERIOD_PS(1000000)) u_slow (.clk(clk_slow));
    p2m_tb_clock_source #(.PERIOD_PS(10000), .PHASE_PS(3000), .START_PS(250000)) u_src (
        .req(clk_req | host_req), .clk(clk));
    reg psel = 0, penable = 0, pwrite = 0; reg [11:0] paddr = 0; reg [31:0] pwdata = 0;
    wire [31:0] prdata; wire pready, pslverr, aer_req; reg aer_ack = 0; wire [AW-1:0] aer_addr;
    wire ana_sample, ana_rst, ana_rst_all, ana_prog, ana_prog_dir, irq;
    wire [CB-1:0] ana_ch_sel, ana_rst_ch; wire [NN-1:0] ana_rst_mask; wire [1:0] ana_prog_target;
    wire [5:0] ana_prog_index; wire [2:0] phase;     // $clog2(3 * 2 * 3 * 3) = 6 bits

    reg [NN-1:0] latched [0:NC-1];
    wire [NN-1:0] ana_flags = latched[ana_ch_sel];
    p2m_top #(.N_CH(NC), .OUT_H(H), .OUT_W(W), .FLAG_SETTLE(1)) dut (
        .clk(clk), .clk_slow(clk_slow), .rst_n(rst_n), .clk_req(clk_req), .psel(psel), .penable(penable), .pwrite(pwrite),
        .paddr(paddr), .pwdata(pwdata), .prdata(prdata), .pready(pready), .pslverr(pslverr),
        .aer_req(aer_req), .aer_ack(aer_ack), .aer_addr(aer_addr),
        .ana_sample(ana_sample), .ana_ch_sel(ana_ch_sel), .ana_flags(ana_flags),
        .ana_rst(ana_rst), .ana_rst_all(ana_rst_all), .ana_rst_ch(ana_rst_ch),
        .ana_rst_mask(ana_rst_mask), .ana_prog(ana_prog), .ana_prog_target(ana_prog_target),
        .ana_prog_index(ana_prog_index), .ana_prog_dir(ana_prog_dir), .phase(phase), .irq(irq));
    integer seed = 5, errors = 0, c, y, x, d, nexp = 0, nrx = 0, w;
    reg [AW-1:0] expq [0:65535];
    integer rd_i = 0;
    always @(posedge clk) if (ana_sample) begin
        for (c = 0; c < NC; c = c + 1)
            for (y = 0; y < H; y = y + 1)
                for (x = 0; x < W; x = x + 1) begin
                    latched[c][y*W + x] = ($random(seed) & 3) == 0;
                    if (latched[c][y*W + x]) begin
                        expq[nexp] = {c[CB-1:0], y[YB-1:0], x[XB-1:0]}; nexp = nexp + 1;
                    end
                end
    end
    always begin
        @(posedge aer_req);
        d = {$random(seed)} % 4; repeat (d) @(posedge clk);
        if (aer_addr !== expq[rd_i]) begin
            $display("ERROR got %b expected %b", aer_addr, expq[rd_i]); errors = errors + 1;
        end
        rd_i = rd_i + 1; nrx = nrx + 1;
        #1 aer_ack = 1;
        @(negedge aer_req);
        d = {$random(seed)} % 4; repeat (d) @(posedge clk);
        #1 aer_ack = 0;
    end
    always @(posedge ana_rst) if (!ana_rst_all && ana_rst_mask !== latched[ana_rst_ch]) begin
        $display("ERROR reset mask ch %0d", ana_rst_ch); errors = errors + 1;
    end
    task apbw(input [11:0] a, input [31:0] v);
        begin
            @(posedge clk); #1 psel = 1; penable = 0; pwrite = 1; paddr = a; pwdata = v;
            @(posedge clk); #1 penable = 1;
            @(posedge clk); #1 psel = 0; penable = 0; pwrite = 0;
        end
    endtask
    initial begin
        if ($value$plusargs("seed=%d", seed)) ;
        for (c = 0; c < NC; c = c + 1) latched[c] = 0;
        #7 rst_n = 0;
        repeat (2) @(posedge clk); #1 rst_n = 1;
        repeat (30) @(posedge clk);
        apbw(12'h00C, 1); apbw(12'h010, 4); apbw(12'h004, 1);
        host_req = 0;                 // from here the chip requests the clock itself
        for (w = 0; w < 200; w = w + 1) @(posedge ana_sample);
        host_req = 1;
        apbw(12'h004, 0);
        repeat (2000) @(posedge clk);
        if (nrx != nexp) begin $display("ERROR %0d spikes received, %0d expected", nrx, nexp); errors = errors + 1; end
        $display("small geometry: %0d spikes over 200 windows, %0d errors", nrx, errors);
        if (errors == 0) $display("PASS"); else $display("FAIL");
        $finish;
    end
endmodule
