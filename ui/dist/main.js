// Loads the Leptos app that ui/build.sh compiles into pkg/; its start function mounts it.
import init from "./pkg/thinkscope_ui.js";

init();
