// The phone menu is a <details> element and works without this file. With it, Escape closes
// the open menu and puts the focus back on the Menu button, and a tap outside the menu closes it,
// as people expect of a menu.
(function () {
  "use strict";
  var menu = document.querySelector("details.nav-menu");
  if (!menu) return;
  var button = menu.querySelector("summary");
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      button.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
})();
