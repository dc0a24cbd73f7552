/** Dashboard entry: defines the custom elements; index.html places <dw-app>. */
import './components/dw-app.js';
