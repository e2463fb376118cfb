/// `GET /docs`: the API for a person to read, rendered in the browser from `/openapi.json`
/// (the same document the tests validate), with a form per operation to try it against this
/// gateway. Everything is in this one page: no CDN, no request anywhere but this gateway.
///
/// A link may carry a request to run on load, in the fragment (never sent to the server):
/// `/docs#try=get_products_id&id=1&token=…` fills the form of that operation and sends it.
enum DocsPage {
    /// Scripts and styles are inline; nothing else may load.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:"

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>API documentation</title>
        <style>
          body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f6f7f9; }
          header { background: #1d232b; color: #fff; padding: 14px 24px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
          header h1 { font-size: 19px; margin: 0; }
          header label { font-size: 13px; }
          header input { width: 420px; max-width: 60vw; font: 12px monospace; padding: 4px; }
          main { display: grid; grid-template-columns: 240px 1fr; gap: 0; }
          nav { padding: 16px; border-right: 1px solid #dde1e6; position: sticky; top: 0; height: 100vh; overflow: auto; box-sizing: border-box; }
          nav a { display: block; color: #1d232b; text-decoration: none; font: 12px monospace; padding: 2px 0; }
          nav h3 { font-size: 13px; margin: 14px 0 4px; text-transform: capitalize; }
          #operations { padding: 16px 24px; max-width: 1000px; }
          .op { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 0 0 16px; padding: 12px 16px; }
          .op h2 { font: 600 15px monospace; margin: 0 0 4px; display: flex; gap: 10px; align-items: center; }
          .method { color: #fff; border-radius: 4px; padding: 1px 8px; font-size: 12px; text-transform: uppercase; }
          .get { background: #1f6feb; } .post { background: #2da44e; } .patch { background: #bf8700; } .delete { background: #cf222e; } .put { background: #8250df; }
          .badge { font: 11px system-ui; border: 1px solid #8c959f; border-radius: 10px; padding: 0 8px; color: #57606a; }
          table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
          th, td { text-align: left; border-bottom: 1px solid #eaeef2; padding: 3px 6px; vertical-align: top; }
          td code, pre { font: 12px monospace; }
          pre { background: #f6f8fa; padding: 8px; overflow: auto; margin: 4px 0; white-space: pre-wrap; }
          details { margin: 6px 0; }
          .try label { display: block; font-size: 13px; margin: 4px 0; }
          .try input { font: 12px monospace; width: 260px; }
          .try textarea { font: 12px monospace; width: 100%; min-height: 90px; box-sizing: border-box; }
          .result .status { font-weight: 600; }
        </style>
        </head>
        <body>
        <header>
          <h1 id="title">API documentation</h1>
          <label>Bearer token <input id="token" placeholder="access_token from POST /auth/login" autocomplete="off"></label>
          <span id="count"></span>
        </header>
        <main><nav id="nav"></nav><div id="operations">Loading /openapi.json…</div></main>
        <script>
        "use strict";
        const methods = ["get", "post", "put", "patch", "delete"];
        let spec = null;

        function el(tag, attributes, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attributes || {})) {
            if (key === "class") node.className = value; else node.setAttribute(key, value);
          }
          for (const child of children) {
            if (child === null || child === undefined) continue;
            node.append(child instanceof Node ? child : String(child));
          }
          return node;
        }

        function resolve(schema) {
          let seen = 0;
          while (schema && schema.$ref && seen++ < 20) {
            schema = schema.$ref.replace(/^#\//, "").split("/").reduce((node, key) => node && node[key], spec);
          }
          return schema || {};
        }

        function typeOf(schema) {
          schema = resolve(schema);
          const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type || (schema.enum ? "enum" : "any"));
          const rules = [];
          if (schema.enum) rules.push("one of " + schema.enum.map(v => JSON.stringify(v)).join(", "));
          if (schema.format) rules.push(schema.format);
          if (schema.minimum !== undefined) rules.push("≥ " + schema.minimum);
          if (schema.maximum !== undefined) rules.push("≤ " + schema.maximum);
          if (schema.minLength !== undefined) rules.push("length ≥ " + schema.minLength);
          if (schema.maxLength !== undefined) rules.push("length ≤ " + schema.maxLength);
          if (schema.pattern) rules.push("pattern " + schema.pattern);
          return type + (rules.length ? " (" + rules.join("; ") + ")" : "");
        }

        // Strings whose rules (patterns) a generated value would not meet.
        const namedExamples = { email: "ann@example.com", password: "secret123", username: "ann",
          customer_id: "ACME1", company_name: "Acme Ltd", product_name: "Chai", refresh_token: "(from POST /auth/login)" };

        function example(schema, depth) {
          schema = resolve(schema);
          depth = depth || 0;
          if (schema.example !== undefined) return schema.example;
          if (schema.examples && schema.examples.length) return schema.examples[0];
          if (schema.default !== undefined) return schema.default;
          if (schema.enum) return schema.enum[0];
          const type = Array.isArray(schema.type) ? schema.type.find(t => t !== "null") : schema.type;
          if (type === "object" || schema.properties) {
            const out = {};
            if (depth > 4) return out;
            const required = schema.required || Object.keys(schema.properties || {});
            for (const name of required) {
              if (!schema.properties || !schema.properties[name]) continue;
              const property = resolve(schema.properties[name]);
              out[name] = namedExamples[name] !== undefined && (property.type === "string" || (Array.isArray(property.type) && property.type.includes("string")))
                ? namedExamples[name] : example(property, depth + 1);
            }
            return out;
          }
          if (type === "array") return [example(schema.items || {}, depth + 1)];
          if (type === "integer") return schema.minimum !== undefined ? Math.max(schema.minimum, 1) : 1;
          if (type === "number") return schema.minimum !== undefined ? schema.minimum : 1.5;
          if (type === "boolean") return true;
          if (schema.format === "email") return "ann@example.com";
          if (schema.format === "date-time") return new Date(0).toISOString();
          const length = Math.max(schema.minLength || 0, 1);
          return "x".repeat(Math.min(length, schema.maxLength || length));
        }

        function schemaTable(schema) {
          schema = resolve(schema);
          if (!schema.properties) return el("pre", {}, typeOf(schema));
          const required = new Set(schema.required || []);
          const rows = Object.entries(schema.properties).map(([name, property]) =>
            el("tr", {}, el("td", {}, el("code", {}, name)), el("td", {}, required.has(name) ? "required" : ""),
              el("td", {}, typeOf(property)), el("td", {}, resolve(property).description || "")));
          return el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, ""), el("th", {}, "type"), el("th", {}, "")), ...rows);
        }

        function operationSection(path, method, operation) {
          const id = operation.operationId || (method + " " + path);
          const secured = (operation.security || spec.security || []).length > 0;
          const section = el("section", { class: "op", id: id, "data-operation-id": id, "data-method": method.toUpperCase(), "data-path": path });
          section.append(el("h2", {}, el("span", { class: "method " + method }, method), path,
            secured ? el("span", { class: "badge" }, "bearer token") : el("span", { class: "badge" }, "open")));
          section.append(el("p", {}, operation.summary || ""));
          if (operation.description) section.append(el("p", {}, operation.description));
          const parameters = (operation.parameters || []).map(resolve);
          if (parameters.length) {
            section.append(el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "")),
              ...parameters.map(p => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in + (p.required ? ", required" : "")),
                el("td", {}, typeOf(p.schema || {})), el("td", {}, p.description || "")))));
          }
          const body = operation.requestBody && resolve(operation.requestBody);
          const bodySchema = body && body.content && body.content["application/json"] && body.content["application/json"].schema;
          if (bodySchema) {
            const details = el("details", { open: "" }, el("summary", {}, "Request body (application/json)" + (body.required ? ", required" : "")));
            details.append(schemaTable(bodySchema), el("pre", {}, "Example: " + JSON.stringify(example(bodySchema), null, 1)));
            section.append(details);
          }
          const responses = Object.entries(operation.responses || {});
          section.append(el("details", {}, el("summary", {}, "Responses: " + responses.map(([code]) => code).join(", ")),
            el("table", {}, ...responses.map(([code, response]) => {
              const content = Object.keys(resolve(response).content || {}).join(", ");
              return el("tr", {}, el("td", {}, el("code", {}, code)), el("td", {}, resolve(response).description || ""), el("td", {}, content));
            }))));
          section.append(tryForm(id, path, method, parameters, bodySchema));
          return section;
        }

        function tryForm(id, path, method, parameters, bodySchema) {
          const form = el("form", { class: "try", "data-try": id });
          const inputs = {};
          for (const parameter of parameters.filter(p => p.in === "path" || p.in === "query")) {
            const input = el("input", { name: parameter.name, placeholder: typeOf(parameter.schema || {}) });
            if (parameter.in === "path") input.value = String(example(parameter.schema || {}));
            inputs[parameter.name] = { input: input, where: parameter.in };
            form.append(el("label", {}, parameter.name + " (" + parameter.in + ") ", input));
          }
          let bodyInput = null;
          if (bodySchema) {
            bodyInput = el("textarea", { name: "body" });
            bodyInput.value = JSON.stringify(example(bodySchema), null, 1);
            form.append(el("label", {}, "body"), bodyInput);
          }
          const result = el("div", { class: "result" });
          form.append(el("button", { type: "submit" }, "Send " + method.toUpperCase() + " " + path), result);
          form.addEventListener("submit", async event => {
            event.preventDefault();
            let url = path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(inputs[name] ? inputs[name].input.value : ""));
            const query = Object.entries(inputs).filter(([, v]) => v.where === "query" && v.input.value !== "")
              .map(([name, v]) => encodeURIComponent(name) + "=" + encodeURIComponent(v.input.value));
            if (query.length) url += "?" + query.join("&");
            const headers = {};
            const token = document.getElementById("token").value.trim();
            if (token) headers["Authorization"] = "Bearer " + token;
            const init = { method: method.toUpperCase(), headers: headers };
            if (bodyInput) { headers["Content-Type"] = "application/json"; init.body = bodyInput.value; }
            result.replaceChildren(el("p", {}, "Sending…"));
            try {
              const response = await fetch(url, init);
              const text = await response.text();
              let shown = text;
              try { shown = JSON.stringify(JSON.parse(text), null, 1); } catch (_) {}
              result.replaceChildren(el("p", { class: "status", "data-status": String(response.status) },
                response.status + " " + response.statusText + " — " + (response.headers.get("content-type") || "")), el("pre", {}, shown));
            } catch (error) {
              result.replaceChildren(el("p", { class: "status", "data-status": "error" }, String(error)));
            }
          });
          form.fill = values => {
            for (const [name, value] of Object.entries(values)) {
              if (inputs[name]) inputs[name].input.value = value;
              if (name === "body" && bodyInput) bodyInput.value = value;
            }
          };
          return form;
        }

        async function start() {
          const token = document.getElementById("token");
          token.value = sessionStorage.getItem("token") || "";
          token.addEventListener("input", () => sessionStorage.setItem("token", token.value));
          spec = await (await fetch("/openapi.json")).json();
          document.getElementById("title").textContent = (spec.info.title || "API") + " " + (spec.info.version || "");
          document.title = spec.info.title || "API documentation";
          const container = document.getElementById("operations");
          const nav = document.getElementById("nav");
          container.replaceChildren();
          let count = 0, group = null;
          for (const path of Object.keys(spec.paths)) {
            const first = path.split("/")[1] || "/";
            if (first !== group) { group = first; nav.append(el("h3", {}, first)); }
            for (const method of methods) {
              const operation = spec.paths[path][method];
              if (!operation) continue;
              const section = operationSection(path, method, operation);
              container.append(section);
              nav.append(el("a", { href: "#" + section.id }, method.toUpperCase() + " " + path));
              count++;
            }
          }
          document.getElementById("count").textContent = count + " operations";
          document.body.setAttribute("data-operations", String(count));
          runFromFragment();
        }

        // #try=<operationId>&<parameter>=<value>&body=<json>&token=<access token>
        function runFromFragment() {
          const values = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
          if (!values.try) return;
          const form = document.querySelector('form[data-try="' + CSS.escape(values.try) + '"]');
          if (!form) return;
          if (values.token) document.getElementById("token").value = values.token;
          delete values.try; delete values.token;
          form.fill(values);
          // Shown first, so the answer is in view without scrolling.
          const section = form.closest("section");
          section.parentNode.prepend(section);
          form.requestSubmit();
        }

        start().catch(error => { document.getElementById("operations").textContent = "Cannot load /openapi.json: " + error; });
        </script>
        </body>
        </html>
        """#
}
