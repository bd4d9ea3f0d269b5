/** uPlot, loaded by its own <script> tag (media/vendor/uPlot.iife.min.js) before parity.js. */
declare const uPlot: typeof import('uplot').default;
