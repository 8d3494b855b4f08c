// Loads the wasm dashboard (built by scripts/build-ui into this folder as pressroom_ui.js).
import init from "./pressroom_ui.js";
init();
