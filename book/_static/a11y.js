/* Accessibility fix for the theme, found by the browser tests (tests/site).
 * The colour-mode button is named "Color mode", but Font Awesome turns the titles of its
 * icons ("Light", "Dark", "System Settings") into text inside the button, so the visible
 * label is not part of the name (WCAG 2.5.3; axe: label-content-name-mismatch). The icons
 * only illustrate the button: hide them from assistive technology, before and after Font
 * Awesome replaces them with SVG. */
(() => {
  const hideIcons = () => {
    for (const icon of document.querySelectorAll(".theme-switch-button .theme-switch")) {
      if (icon.getAttribute("aria-hidden") === "true" && !icon.hasAttribute("title")) continue;
      icon.removeAttribute("title");
      icon.removeAttribute("role");
      icon.removeAttribute("aria-labelledby");
      icon.setAttribute("aria-hidden", "true");
      for (const title of icon.querySelectorAll("title")) title.remove();
    }
  };
  const observer = new MutationObserver(hideIcons);
  document.addEventListener("DOMContentLoaded", () => {
    hideIcons();
    for (const button of document.querySelectorAll(".theme-switch-button")) {
      observer.observe(button, { childList: true, subtree: true });
    }
  });
})();

/* The book's title at the top of the left sidebar sits outside every landmark, so screen
 * reader users who move between landmarks skip it (axe: region, WCAG best practice). The
 * sidebar is the book's navigation: mark it as a complementary region with a name. */
document.addEventListener("DOMContentLoaded", () => {
  const sidebar = document.getElementById("pst-primary-sidebar");
  if (sidebar && !sidebar.hasAttribute("role")) {
    sidebar.setAttribute("role", "complementary");
    sidebar.setAttribute("aria-label", "Book contents");
  }
});
