// The partner picker (issue 16), on top of a form that works without it: the list filters
// as you type (no round trip), and the chosen partners show as chips, each with a button
// that removes that role. A status line tells screen readers what was added or removed.
(function () {
  "use strict";

  var CYRILLIC = {
    а: "a", б: "b", в: "v", г: "g", д: "d", ђ: "dj", е: "e", ж: "z", з: "z", и: "i",
    ј: "j", к: "k", л: "l", љ: "lj", м: "m", н: "n", њ: "nj", о: "o", п: "p", р: "r",
    с: "s", т: "t", ћ: "c", у: "u", ф: "f", х: "h", ц: "c", ч: "c", џ: "dz", ш: "s"
  };

  // The same folding as campaign.core.text.fold: Latin letters, lower case, no diacritics.
  function fold(text) {
    var lower = (text || "").toLowerCase().replace(/[\u0430-\u045f]/g, function (c) {
      return CYRILLIC[c] || c;
    });
    return lower.replace(/đ/g, "dj").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key];
    });
  }

  function setUp(picker) {
    var box = picker.querySelector("#partner_q");
    var count = picker.querySelector("#partner-count");
    var chips = picker.querySelector("ul.chips");
    var status = picker.querySelector(".picker-status");
    var groups = Array.prototype.slice.call(picker.querySelectorAll("fieldset.partner"));
    var shownQuery = picker.querySelector("input[name=partner_q_shown]");
    var button = picker.querySelector(".filter-button");
    if (button) {
      button.hidden = true; // filtering happens as you type
    }

    function roleLabel(input) {
      return input.parentNode.textContent.trim();
    }

    function nameOf(input) {
      return input.closest("fieldset.partner").getAttribute("data-name");
    }

    function isChosen(group) {
      return group.querySelector("input:checked") !== null;
    }

    function filter() {
      var words = fold(box.value).split(/\s+/).filter(Boolean);
      // The list already shows this filter: Enter in any box saves the form (the server
      // only re-filters when the box differs from what was shown).
      shownQuery.value = box.value;
      var shown = 0;
      groups.forEach(function (group) {
        var key = group.getAttribute("data-key");
        var match = isChosen(group) || words.every(function (w) {
          return key.indexOf(w) !== -1;
        });
        group.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      count.textContent = fill(picker.getAttribute("data-count"), {
        shown: shown,
        total: groups.length
      });
    }

    function renderChips() {
      chips.textContent = "";
      var boxes = picker.querySelectorAll("fieldset.partner input[type=checkbox]:checked");
      if (!boxes.length) {
        var none = document.createElement("li");
        none.className = "chip-none";
        none.textContent = picker.getAttribute("data-none");
        chips.appendChild(none);
        return;
      }
      Array.prototype.forEach.call(boxes, function (input) {
        var values = { partner: nameOf(input), role: roleLabel(input) };
        var chip = document.createElement("li");
        chip.className = "chip";
        chip.setAttribute("data-for", input.id);
        var text = document.createElement("span");
        text.textContent = values.partner + " — " + values.role;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.setAttribute("aria-label", fill(picker.getAttribute("data-remove"), values));
        remove.addEventListener("click", function () {
          var next = chip.nextElementSibling || chip.previousElementSibling;
          var nextFor = next ? next.getAttribute("data-for") : null;
          input.checked = false;
          input.dispatchEvent(new Event("change", { bubbles: true }));
          var target = nextFor && chips.querySelector('[data-for="' + nextFor + '"] button');
          (target || box).focus();
        });
        chip.appendChild(text);
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    }

    picker.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.matches || !input.matches("fieldset.partner input[type=checkbox]")) {
        return;
      }
      var values = { partner: nameOf(input), role: roleLabel(input) };
      input.closest("fieldset.partner").classList.toggle(
        "is-chosen", isChosen(input.closest("fieldset.partner"))
      );
      status.textContent = fill(
        picker.getAttribute(input.checked ? "data-added" : "data-removed"), values
      );
      renderChips();
      filter();
    });
    box.addEventListener("input", filter);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // the list is already filtered; Enter must not save
      } else if (event.key === "Escape" && box.value) {
        event.preventDefault();
        box.value = "";
        filter();
      }
    });
    renderChips();
    filter();
  }

  document.querySelectorAll("fieldset.partner-picker").forEach(setUp);
})();
