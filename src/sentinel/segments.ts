/**
 * Segments of a document and their context, for "task injection": a request aimed at the assistant
 * ("What is the capital of Brazil?", "Write your reply in French") planted in an email, a table cell
 * or a code comment. Such a sentence has no override wording; what gives it away is how it sits in its
 * document: a question or imperative addressed to "you" / the answer, at the start or end, sharing no
 * vocabulary with the text around it, prose in a table. The classifier scores every segment with its
 * own n-grams plus these context features, so a short planted sentence is not diluted by a long window.
 *
 * Segments are lines, table cells and sentences of the normalised (lower-cased) text, at most
 * MAX_SEGMENT characters. Everything here is one pass over the text (plus a token-count map): linear.
 */
import { clipTokens, firstTokenAfter, isTokenChar, MAX_TOKEN, type TokenSpans } from './rules.ts';
import { rot13 } from './normalize.ts';

export const MAX_SEGMENT = 320;

export interface Segment { readonly start: number; readonly end: number }

function isSentenceEnd(c: number): boolean {
  return c === 0x2e || c === 0x3f || c === 0x21 || c === 0x3b || c === 0x061f || c === 0x0964;
}
function isCjkSentenceEnd(c: number): boolean {
  return c === 0x3002 || c === 0xff1f || c === 0xff01 || c === 0xff1b;
}
function isSpace(c: number): boolean { return c === 0x20 || c === 0x09 || c === 0x0d; }

/** Lines, table cells ('|') and sentences of `text`, each non-blank and at most MAX_SEGMENT long. */
export function segment(text: string): Segment[] {
  const out: Segment[] = [];
  const n = text.length;
  let start = 0;
  const push = (s: number, e: number): void => {
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    while (e - s > MAX_SEGMENT) {
      // cut a long run at the last space before the limit (or hard at the limit)
      // bounded backward search (lastIndexOf would scan to the start of a text without spaces)
      let cut = s + MAX_SEGMENT;
      while (cut > s + MAX_SEGMENT / 2 && text.charCodeAt(cut) !== 0x20) cut--;
      if (cut <= s + MAX_SEGMENT / 2) cut = s + MAX_SEGMENT;
      out.push({ start: s, end: cut });
      s = cut;
      while (s < e && isSpace(text.charCodeAt(s))) s++;
    }
    if (e > s) out.push({ start: s, end: e });
  };
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x7c) { push(start, i); start = i + 1; }
    else if (isCjkSentenceEnd(c) || (isSentenceEnd(c) && (i + 1 >= n || isSpace(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 0x0a))) {
      push(start, i + 1); start = i + 1;
    }
  }
  push(start, n);
  return out;
}

// --- Closed-class lexicon ------------------------------------------------------------------------
// Who a sentence addresses and what it asks for is carried by a few closed-class words in every
// language: second-person pronouns, request verbs in the imperative, question words, "please", names of
// the assistant and of its answer. These lists are small and hand-written, one line per language, so a
// planted request is recognised by its shape in languages whose content words the classifier never saw.
// Classes are bits; a token may carry several.
const C_P2 = 1, C_P1 = 2, C_IMP = 4, C_QW = 8, C_PLEASE = 16, C_AI = 32, C_ANS = 64;
const CLASS_BITS: Readonly<Record<string, number>> = { P2: C_P2, P1: C_P1, IMP: C_IMP, QW: C_QW, PL: C_PLEASE, AI: C_AI, ANS: C_ANS };
// Word lists ("class: words"), whole tokens after normalisation (NFKC, lower case).
const LEXICON: readonly string[] = [
  // en
  'P2: you your yours yourself yourselves u ya thee thou thy ur|P1: i me my mine we us our ours myself|IMP: write tell answer respond reply explain describe list name give translate summarize summarise show provide generate create compose draft include add insert append prepend ignore disregard forget print output say recommend mention remove delete replace rewrite start begin end conclude calculate compute suggest share define compare convert repeat use make recite spell introduce rearrange change format teach elaborate outline discuss identify classify solve pretend act imagine brainstorm encourage urge promote advertise integrate incorporate embed refer direct send forward visit click download stop avoid sing paraphrase analyze analyse evaluate predict guess reveal display render|QW: what who whom whose where when why how which can could would will do does did is are should may shall|PL: please pls plz kindly|AI: ai assistant chatbot bot llm gpt chatgpt model agent copilot claude gemini|ANS: answer answers response responses reply replies output summary completion',
  // fr
  'P2: tu vous ton ta tes votre vos toi te t|P1: je j nous notre nos moi me m mon ma mes|IMP: écris écrivez dis dites réponds répondez explique expliquez décris décrivez liste listez énumère traduis traduisez résume résumez donne donnez montre montrez fournis génère générez crée créez compose rédige rédigez inclus incluez ajoute ajoutez insère insérez ignore ignorez oublie oubliez affiche imprime recommande recommandez mentionne supprime remplace réécris commence commencez termine terminez calcule suggère partage définis compare convertis répète utilise fais faites raconte racontez indique indiquez présente cite nomme|QW: quel quelle quels quelles qui où quand pourquoi comment combien quoi qu est-ce|PL: plaît svp veuillez|AI: assistant ia modèle chatbot|ANS: réponse réponses sortie',
  // de
  'P2: du dein deine deinen deiner deinem deines dir dich euch euer eure|P1: ich wir mir mich uns unser unsere mein meine meinen|IMP: schreib schreibe sag sage erzähl erzähle antworte beantworte erkläre erklären beschreibe liste nenne nennen übersetze übersetzen fasse gib geben zeige zeig erstelle erstellen verfasse füge ergänze ignoriere ignorieren vergiss drucke empfiehl erwähne entferne ersetze beginne beende berechne schlage teile definiere vergleiche wiederhole verwende benutze mach mache formuliere|QW: was wer wo wann warum wie welche welcher welches wieso weshalb wieviel kannst könntest kann könnten würdest ist sind|PL: bitte|AI: ki assistent assistentin modell chatbot|ANS: antwort antworten ausgabe',
  // es
  'P2: tú tu tus te ti usted ustedes vosotros vuestro vuestra contigo|P1: yo me mi mis nosotros nuestro nuestra nos|IMP: escribe escriba di diga dime dígame responde responda contesta explica explique explícame describe describa enumera lista traduce traduzca resume resuma da dame deme muestra muestre proporciona genera crea cree redacta compón incluye incluya añade añada agrega agregue inserta ignora olvida olvide imprime recomienda menciona elimina quita reemplaza sustituye reescribe comienza empieza termina calcula sugiere comparte define compara convierte repite usa utiliza haz cuéntame cuenta indica nombra|QW: qué quién quiénes dónde cuándo cómo cuál cuáles cuánto cuántos cuántas puedes podrías|PL: favor|AI: ia asistente modelo chatbot|ANS: respuesta respuestas salida',
  // it
  'P2: tu tuo tua tuoi tue te ti voi vostro vostra|P1: io mi me mio mia miei noi nostro nostra ci|IMP: scrivi scriva dimmi di dica rispondi risponda spiega spieghi descrivi elenca traduci riassumi dai dammi mostra mostrami fornisci genera crea componi redigi includi aggiungi inserisci ignora dimentica stampa raccomanda consiglia menziona rimuovi elimina sostituisci riscrivi inizia comincia termina concludi calcola suggerisci condividi definisci confronta converti ripeti usa utilizza fai racconta indica nomina|QW: cosa chi dove quando perché come quale quali quanto quanti puoi potresti|PL: favore prego cortesia|AI: ia assistente modello chatbot|ANS: risposta risposte output',
  // pt
  'P2: você vocês voce tu teu tua te ti contigo|P1: eu me meu minha nós nosso nossa|IMP: escreva escreve diga diz responda responde explique explica descreva liste enumere traduza resuma dê mostre forneça gere crie componha redija inclua adicione acrescente insira ignore esqueça imprima recomende mencione remova substitua reescreva comece termine calcule sugira compartilhe defina compare converta repita use utilize faça conte indique cite|QW: que quem onde quando porque como qual quais quanto quantos pode poderia|PL: favor gentileza|AI: ia assistente modelo chatbot|ANS: resposta respostas saída',
  // nl
  'P2: je jij jou jouw u uw jullie|P1: ik mij me mijn wij we ons onze|IMP: schrijf zeg vertel antwoord beantwoord leg beschrijf noem geef vertaal vat toon maak genereer voeg negeer vergeet druk raad vermeld verwijder vervang herschrijf begin eindig bereken stel deel definieer vergelijk herhaal gebruik|QW: wat wie waar wanneer waarom hoe welke welk hoeveel kun kunt kan|PL: alsjeblieft alstublieft aub graag|AI: ai assistent model chatbot|ANS: antwoord antwoorden uitvoer',
  // sv
  'P2: du dig din ditt dina ni er ert era|P1: jag mig mej min mitt mina vi oss vår vårt våra|IMP: skriv säg berätta svara besvara förklara beskriv lista nämn ge översätt sammanfatta visa skapa generera lägg inkludera ignorera glöm rekommendera ta ersätt börja avsluta beräkna föreslå dela definiera jämför upprepa använd gör|QW: vad vem var när varför hur vilken vilket vilka kan kan|PL: snälla vänligen|AI: ai assistent modell chatbot|ANS: svar svaret svaren',
  // da
  'P2: du dig din dit dine jer jeres|P1: jeg mig min mit mine vi os vores|IMP: skriv sig fortæl svar besvar forklar beskriv nævn giv oversæt opsummer vis lav skab generer tilføj inkluder ignorer glem anbefal fjern erstat begynd afslut beregn foreslå del definer sammenlign gentag brug gør|QW: hvad hvem hvor hvornår hvorfor hvordan hvilken hvilket hvilke|PL: venligst|AI: ai assistent model|ANS: svar svaret',
  // no
  'P2: du deg din ditt dine dere deres|P1: jeg meg min mitt mine vi oss vår|IMP: skriv si fortell svar forklar beskriv nevn gi oversett oppsummer vis lag generer legg inkluder ignorer glem anbefal fjern erstatt begynn avslutt beregn foreslå del definer sammenlign gjenta bruk gjør|QW: hva hvem hvor når hvorfor hvordan hvilken hvilket hvilke|PL: vennligst|AI: ai assistent modell|ANS: svar svaret',
  // fi
  'P2: sinä sinun sinulle sinua te teidän sä sun|P1: minä minun minulle minua me meidän mä|IMP: kirjoita kerro vastaa selitä kuvaile luettele nimeä anna käännä tiivistä näytä luo tee lisää sisällytä ohita unohda tulosta suosittele mainitse poista korvaa aloita lopeta laske ehdota jaa määrittele vertaa toista käytä|QW: mikä mitä kuka missä milloin miksi miten kuinka mitkä montako|PL: kiitos|AI: avustaja tekoäly malli|ANS: vastaus vastauksesi vastauksessasi',
  // pl
  'P2: ty ciebie cię tobie ci twój twoja twoje twojej twoim twojego wy wasz wasza wasze|P1: ja mnie mi mój moja moje my nas nam nasz nasza|IMP: napisz powiedz opowiedz odpowiedz wyjaśnij objaśnij opisz wymień podaj przetłumacz streść podsumuj pokaż stwórz utwórz wygeneruj dodaj dołącz uwzględnij zignoruj zapomnij wydrukuj wypisz poleć wspomnij usuń zastąp zacznij rozpocznij zakończ oblicz zaproponuj udostępnij zdefiniuj porównaj powtórz użyj zrób|QW: co kto gdzie kiedy dlaczego czemu jak jaki jaka jakie który która które ile czy|PL: proszę prosze|AI: asystent asystencie ai si model|ANS: odpowiedź odpowiedzi odpowiedzią',
  // cs
  'P2: ty tebe tě tobě ti tvůj tvoje tvá vy vás vám váš vaše|P1: já mě mi můj moje my nás nám náš naše|IMP: napiš řekni pověz odpověz vysvětli popiš vyjmenuj uveď dej přelož shrň ukaž vytvoř vygeneruj přidej zahrň ignoruj zapomeň vypiš doporuč zmiň odstraň nahraď začni ukonči spočítej navrhni sdílej definuj porovnej zopakuj použij udělej|QW: co kdo kde kdy proč jak jaký jaká jaké který kolik|PL: prosím|AI: asistent ai model|ANS: odpověď odpovědi',
  // sk
  'P2: ty teba ti tvoj tvoja tvoje vy vás vám váš vaša|P1: ja mňa mi môj moja my nás nám náš naša|IMP: napíš povedz odpovedz vysvetli opíš vymenuj uveď daj prelož zhrň ukáž vytvor pridaj zahrň ignoruj zabudni vypíš odporuč spomeň odstráň nahraď začni ukonči vypočítaj navrhni porovnaj zopakuj použi urob|QW: čo kto kde kedy prečo ako aký aká aké ktorý koľko|PL: prosím|AI: asistent ai model|ANS: odpoveď odpovedi',
  // ro
  'P2: tu te ție tău ta tale dumneavoastră voi vostru voastră|P1: eu mie mă meu mea noi nostru noastră|IMP: scrie scrieți spune spuneți răspunde explică descrie enumeră dă tradu traduce rezumă arată creează generează adaugă include ignoră uită recomandă menționează elimină înlocuiește începe încheie calculează sugerează definește compară repetă folosește fă povestește|QW: ce cine unde când cum care cât câte câți|PL: rog|AI: asistent ia model|ANS: răspuns răspunsul',
  // hu
  'P2: te téged neked ön önnek ti tiéd|P1: én engem nekem mi minket nekünk|IMP: írj írjon írd írja mondd mondja mondj válaszolj válaszoljon magyarázd magyarázza sorold add adj fordítsd fordítsa foglald mutasd készíts hozz hagyd felejtsd ajánld említsd távolítsd cseréld kezdd fejezd számold javasolj definiáld hasonlítsd ismételd használd csináld meséld mesélj|QW: mi mit ki hol mikor miért hogyan melyik mennyi milyen|PL: kérlek kérem|AI: asszisztens mi modell|ANS: válasz válaszod válaszodban válaszában',
  // ru
  'P2: ты вы тебя тебе тобой вас вам вами твой твоя твоё твое твои твоём твоем твоей ваш ваша ваше ваши вашем вашей|P1: я меня мне мной мы нас нам наш наша мой моя|IMP: напиши напишите скажи скажите расскажи расскажите ответь ответьте объясни объясните опиши опишите перечисли назови дай дайте переведи переведите перескажи покажи создай сгенерируй составь добавь добавьте включи вставь игнорируй проигнорируй забудь выведи напечатай порекомендуй посоветуй упомяни удали убери замени перепиши начни закончи заверши вычисли посчитай предложи поделись определи сравни повтори используй сделай|QW: что кто где когда почему зачем как какой какая какое какие который сколько ли|PL: пожалуйста|AI: ассистент ии модель бот чатбот|ANS: ответ ответе ответа ответу',
  // uk
  'P2: ти ви тебе тобі вас вам твій твоя твоє твої ваш ваша ваше|P1: я мене мені ми нас нам наш мій моя|IMP: напиши скажи розкажи відповідай відповідь поясни опиши перелічи назви дай переклади підсумуй покажи створи згенеруй додай включи ігноруй проігноруй забудь виведи порекомендуй згадай видали заміни почни закінчи обчисли запропонуй поділися визнач порівняй повтори використай зроби|QW: що хто де коли чому як який яка яке скільки чи|PL: ласка|AI: асистент ші модель|ANS: відповідь відповіді',
  // bg
  'P2: ти вие теб тебе ви твой твоя твоето ваш ваша|P1: аз мен ми ние нас нашия мой|IMP: напиши кажи разкажи отговори обясни опиши изброй дай преведи обобщи покажи създай добави игнорирай забрави препоръчай спомени премахни замени започни завърши изчисли предложи сравни повтори използвай направи|QW: какво кой коя къде кога защо как колко дали|PL: моля|AI: асистент ии модел|ANS: отговор отговора',
  // el
  'P2: εσύ εσείς σου σας σένα εσένα|P1: εγώ μου μας εμείς εμένα|IMP: γράψε γράψτε πες πείτε απάντησε απαντήστε εξήγησε περιέγραψε απαρίθμησε δώσε μετάφρασε συνόψισε δείξε δημιούργησε πρόσθεσε συμπερίλαβε αγνόησε ξέχασε τύπωσε πρότεινε ανάφερε αφαίρεσε αντικατάστησε ξεκίνα τελείωσε υπολόγισε όρισε σύγκρινε επανάλαβε χρησιμοποίησε κάνε|QW: τι ποιος ποια ποιο πού πότε γιατί πώς πόσο πόσα|PL: παρακαλώ|AI: βοηθός μοντέλο|ANS: απάντηση απάντησή',
  // tr
  'P2: sen sana seni senin sende siz size sizi sizin|P1: ben bana beni benim biz bize bizim|IMP: yaz yazın söyle söyleyin anlat anlatın cevapla yanıtla açıkla açıklayın tanımla betimle listele sırala ver verin çevir çevirin özetle özetleyin göster oluştur üret ekle ekleyin dahil unut unutun yazdır öner önerin bahset kaldır sil değiştir başla bitir hesapla paylaş karşılaştır tekrarla kullan yap|QW: ne neden niçin nasıl nerede nereye kim kimin hangi kaç mi mı mu mü|PL: lütfen|AI: asistan yapay model|ANS: cevap cevabın cevabında cevabınızda yanıt yanıtın yanıtında yanıtınızda',
  // ar
  'P2: أنت انت أنتم انتم لك عليك إليك منك|P1: أنا انا نحن لي لنا|IMP: اكتب قل أخبرني اخبرني أجب اجب اشرح صف اذكر عدد أعط اعط أعطني اعطني ترجم لخص اعرض أنشئ انشئ أضف اضف ضمن تجاهل انس اطبع اقترح احذف استبدل ابدأ اختم احسب شارك عرف قارن كرر استخدم اجعل|QW: ما ماذا من أين اين متى لماذا كيف كم هل أي|PL: فضلك رجاء الرجاء يرجى|AI: المساعد مساعد الذكاء|ANS: إجابتك اجابتك ردك جوابك الإجابة الاجابة الرد',
  // fa
  'P2: تو شما برایت|P1: من ما|IMP: بنویس بگو پاسخ جواب توضیح شرح توصیف فهرست بده ترجمه خلاصه نشان بساز اضافه نادیده فراموش چاپ پیشنهاد ذکر حذف جایگزین شروع محاسبه مقایسه تکرار استفاده بکن کن|QW: چه چی کی کجا چرا چطور چگونه کدام چند آیا|PL: لطفا لطفاً|AI: دستیار هوش|ANS: پاسخت جوابت',
  // he
  'P2: אתה את אתם לך שלך אותך|P1: אני אנחנו לי שלי שלנו|IMP: כתוב כתבי תכתוב אמור ספר ספרי ענה עני הסבר תאר פרט מנה תן תני תרגם סכם הראה צור הוסף כלול התעלם שכח הדפס המלץ הזכר הסר החלף התחל סיים חשב הצע שתף הגדר השווה חזור השתמש עשה|QW: מה מי איפה מתי למה מדוע איך כיצד איזה איזו כמה האם|PL: בבקשה|AI: עוזר בינה|ANS: תשובה בתשובתך התשובה',
  // hi
  'P2: आप तुम तू आपका आपके आपकी तुम्हारा तुम्हारे तुम्हारी आपको तुम्हें|P1: मैं मुझे मेरा मेरे मेरी हम हमें हमारा हमारे|IMP: लिखो लिखिए लिखें बताओ बताइए बताएं बताएँ दो दीजिए दें समझाओ समझाइए समझाएं वर्णन सूची अनुवाद सारांश दिखाओ दिखाइए बनाओ बनाइए जोड़ो जोड़ें जोड़िए शामिल अनदेखा भूलो भूल सुझाव हटाओ बदलो शुरू खत्म गणना साझा तुलना दोहराओ उपयोग करो कीजिए करें करिए सुनाओ सुनाइए|QW: क्या कौन कहाँ कहां कब क्यों कैसे कौनसा कितना कितने|PL: कृपया|AI: सहायक एआई|ANS: उत्तर जवाब',
  // bn
  'P2: আপনি তুমি আপনার তোমার|P1: আমি আমার আমরা|IMP: লিখুন লেখো বলুন বলো ব্যাখ্যা বর্ণনা তালিকা দিন দাও অনুবাদ সারাংশ দেখান তৈরি যোগ উপেক্ষা করুন করো|QW: কী কি কে কোথায় কখন কেন কীভাবে কোন কত|PL: অনুগ্রহ দয়া|AI: সহকারী|ANS: উত্তর',
  // id / ms
  'P2: kamu anda engkau kau awak kalian|P1: saya aku kami kita|IMP: tulis tuliskan katakan ceritakan jawab jawablah jelaskan jelaskanlah gambarkan sebutkan berikan beri terjemahkan ringkas ringkaskan rangkum tunjukkan buat buatlah hasilkan tambahkan sertakan abaikan lupakan cetak rekomendasikan sarankan hapus ganti mulai mulailah akhiri hitung bagikan definisikan bandingkan ulangi gunakan lakukan|QW: apa siapa mana kapan mengapa kenapa bagaimana berapa apakah bila|PL: tolong mohon silakan sila|AI: asisten ai model|ANS: jawaban jawabanmu respons balasan',
  // vi
  'P2: bạn|P1: tôi mình chúng|IMP: hãy viết nói kể trả giải mô liệt dịch tóm hiển tạo thêm bỏ quên đề gợi xóa thay tính chia so lặp dùng làm|QW: gì ai đâu sao nào nhiêu|PL: xin ơn|AI: ai trợ|ANS: lời',
  // tl
  'P2: ikaw ka mo iyong inyo kayo|P1: ako ko akin kami tayo|IMP: isulat sabihin sagutin ipaliwanag ilarawan ilista ibigay isalin ibuod ipakita gumawa idagdag isama huwag kalimutan balewalain|QW: ano sino saan kailan bakit paano alin ilan|PL: pakiusap paki po|AI: ai katulong|ANS: sagot',
  // sw
  'P2: wewe yako wako wenu nyinyi|P1: mimi yangu sisi yetu|IMP: andika sema niambie eleza elezea jibu orodhesha toa nipe tafsiri fupisha onyesha unda tengeneza ongeza jumuisha puuza sahau pendekeza ondoa badilisha anza maliza hesabu shiriki linganisha rudia tumia fanya|QW: nini nani wapi lini kwanini vipi gani ngapi je|PL: tafadhali|AI: msaidizi|ANS: jibu',
  // ko (whole words)
  'P2: 당신 당신은 당신의 당신이 너 너는 네가 너의 귀하 귀하의 여러분|P1: 나는 내가 저는 제가 저희 우리 우리는 나의 저의|QW: 무엇 뭐 누구 어디 언제 왜 어떻게 어떤 어느 몇 얼마|PL: 제발|ANS: 답변 응답 대답 답',
];
// Substrings (scripts written without spaces, and Korean endings), checked only in segments that
// contain such characters.
const LEXICON_SUB: readonly string[] = [
  // zh (simplified, traditional)
  'P2: 你 您|P1: 我|IMP: 写 寫 告诉 告訴 回答 解释 解釋 描述 列出 给我 給我 翻译 翻譯 总结 總結 概括 显示 顯示 创建 創建 生成 添加 加上 包含 忽略 忘记 忘記 输出 輸出 打印 推荐 推薦 删除 刪除 替换 替換 计算 計算 建议 建議 比较 比較 重复 重複 讲 講|QW: 什么 什麼 谁 誰 哪里 哪裡 为什么 為什麼 怎么 怎麼 怎样 如何 哪个 多少 吗 嗎|PL: 请 請|AI: 助手 人工智能 ai|ANS: 回答 回复 回覆 答案 答复',
  // ja
  'P2: あなた きみ お前|P1: 私 わたし 僕 俺 我々|IMP: 書いて 教えて 答えて 説明して 述べて 挙げて 列挙 翻訳 要約 まとめて 見せて 作成 作って 生成 追加 加えて 含めて 無視 忘れて 出力 表示 おすすめ 削除 置き換え 始めて 計算 提案 比較 繰り返 使って|QW: 何 なに なぜ どうして どこ いつ 誰 だれ どう どの どれ いくつ|PL: ください 下さい お願い|AI: アシスタント 人工知能|ANS: 回答 返答 答え 返信',
  // ko (endings and stems inside words)
  'P2: 당신|IMP: 써주 써 줘 주세요 주십시오 작성 알려 말해 답해 설명 묘사 나열 열거 번역 요약 보여 만들어 생성 추가 포함 무시 잊어 출력 추천 언급 삭제 바꿔 대체 시작 끝내 계산 제안 공유 정의 비교 반복 사용 하세요 하십시오 해라|QW: 무엇 누구 어디 언제 어떻게 얼마 인가요 일까요 습니까 나요|PL: 부탁|AI: 어시스턴트 인공지능|ANS: 답변 응답',
  // th
  'P2: คุณ เธอ ท่าน|P1: ฉัน ผม เรา|IMP: เขียน บอก ตอบ อธิบาย บรรยาย ระบุ แปล สรุป แสดง สร้าง เพิ่ม ใส่ ละเว้น เพิกเฉย ลืม พิมพ์ แนะนำ ลบ แทนที่ เริ่ม คำนวณ เปรียบเทียบ ทำซ้ำ|QW: อะไร ใคร ที่ไหน เมื่อไร เมื่อไหร่ ทำไม อย่างไร ยังไง ไหม หรือไม่|PL: กรุณา โปรด ช่วย|AI: ผู้ช่วย|ANS: คำตอบ',
];
function parseLexicon(lines: readonly string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const line of lines) {
    for (const part of line.split('|')) {
      const c = part.indexOf(':');
      const bit = CLASS_BITS[part.slice(0, c).trim()];
      if (bit === undefined) throw new Error(`segments.ts lexicon: unknown class in "${part.slice(0, 20)}"`);
      for (const w of part.slice(c + 1).trim().split(/\s+/)) if (w !== '') out.push([w.normalize('NFKC').toLowerCase(), bit]);
    }
  }
  return out;
}
const WORD_CLASS = new Map<string, number>();
for (const [w, b] of parseLexicon(LEXICON)) WORD_CLASS.set(w, (WORD_CLASS.get(w) ?? 0) | b);
const SUB_CLASS: ReadonlyArray<[string, number]> = parseLexicon(LEXICON_SUB);
/** Longest word of the lexicon: a longer token (less a glued prefix) has no class. */
const MAX_CLASS_WORD = Math.max(...[...WORD_CLASS.keys()].map((w) => w.length));
/** Arabic conjunction/preposition prefixes glued to the next word. */
const AR_GLUE = ['و', 'ف'];
function tokenClass(t: string): number {
  const b = WORD_CLASS.get(t);
  if (b !== undefined) return b;
  const c = t.charCodeAt(0);
  if (c >= 0x600 && c <= 0x6ff && t.length > 2) for (const p of AR_GLUE) if (t.startsWith(p)) return WORD_CLASS.get(t.slice(1)) ?? 0;
  return 0;
}

// Substrings grouped by first character (UTF-16 unit, as a number: no 1-character strings): one pass
// over a segment finds them all (linear time).
const SUB_FIRST = new Map<number, Array<[string, number]>>();
for (const [w, b] of SUB_CLASS) { const k = w.charCodeAt(0); let l = SUB_FIRST.get(k); if (!l) SUB_FIRST.set(k, (l = [])); l.push([w, b]); }

/** Classes found by substring in text[start, stop) (CJK, kana, hangul, Thai), with those at its start and end. */
function subClasses(text: string, start: number, stop: number): { any: number; first: number; last: number } {
  let any = 0, first = 0, last = 0;
  let end = stop - start;
  while (end > 0 && !isTokenCharLike(text.charCodeAt(start + end - 1))) end--;
  for (let i = 0; start + i < stop; i++) {
    const c = text.charCodeAt(start + i);
    if (c < 0x0e00 || (c >= 0x2000 && c < 0x3040)) continue;
    const cands = SUB_FIRST.get(c);
    if (cands === undefined) continue;
    for (const [w, b] of cands) {
      if (start + i + w.length > stop || !text.startsWith(w, start + i)) continue;
      any |= b;
      if (i <= 1) first |= b;
      if (i + w.length >= end - 2) last |= b;
    }
  }
  return { any, first, last };
}
function isTokenCharLike(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xff0f));
}

/** Whether the token text[a, b) is a content word (for shared vocabulary). */
function isContent(text: string, a: number, b: number): boolean {
  // Letters of alphabetic scripts only (a CJK run is one long token and says nothing about overlap).
  if (b - a < 4) return false;
  return text.charCodeAt(a) < 0x3000;
}

/** Coarse script of a character (0 = not a letter we classify). */
function scriptOf(c: number): number {
  if (c < 0x41) return 0;
  if (c < 0x250) return (c >= 0x61 && c <= 0x7a) || c >= 0xc0 ? 1 : 0; // Latin
  if (c >= 0x370 && c < 0x530) return 2; // Greek, Cyrillic
  if (c >= 0x590 && c < 0x600) return 3; // Hebrew
  if ((c >= 0x600 && c < 0x780) || (c >= 0xfb50 && c < 0xff00)) return 4; // Arabic
  if (c >= 0x900 && c < 0xe00) return 5; // Indic
  if (c >= 0xe00 && c < 0xe80) return 6; // Thai
  if ((c >= 0xac00 && c < 0xd7b0) || (c >= 0x1100 && c < 0x1200) || (c >= 0x3130 && c < 0x3190)) return 7; // Hangul
  if (c >= 0x3040 && c < 0x3100) return 8; // kana
  if (c >= 0x4e00 && c < 0xa000) return 9; // CJK ideographs
  return 0;
}
const SCRIPTS = 10;
/** scriptOf of every UTF-16 unit (one lookup per character of a document). */
const SCRIPT_OF = new Uint8Array(0x10000);
for (let c = 0; c < 0x10000; c++) SCRIPT_OF[c] = scriptOf(c);
function dominant(counts: Int32Array, from: number): { script: number; share: number; total: number } {
  let best = 0, total = 0;
  for (let k = 1; k < SCRIPTS; k++) { total += counts[from + k]!; if (counts[from + k]! > counts[from + best]!) best = k; }
  return { script: best, share: total > 0 ? counts[from + best]! / total : 0, total };
}

function shapeLetter(b: number): string {
  return b & C_IMP ? 'I' : b & C_QW ? 'Q' : b & C_P2 ? 'Y' : b & C_P1 ? 'M' : b & C_PLEASE ? 'P' : b & C_AI ? 'A' : b & C_ANS ? 'R' : 'w';
}

/** Kind of document: a table, code (fenced blocks or many code-like lines), or prose. */
function docKind(text: string, tableDoc: boolean): string {
  if (tableDoc) return 'table';
  if (text.includes('```')) return 'code';
  let lines = 0, codey = 0, ls = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 0x0a) continue;
    let a = ls, b = i;
    ls = i + 1;
    while (a < b && text.charCodeAt(a) <= 0x20) a++;
    while (b > a && text.charCodeAt(b - 1) <= 0x20) b--;
    if (b <= a) continue;
    lines++;
    const e = text.charCodeAt(b - 1);
    if (e === 0x3b || e === 0x7b || e === 0x7d || e === 0x29 || e === 0x3a || text.startsWith('>>>', a) || text.startsWith('import ', a) || text.startsWith('def ', a) || text.startsWith('//', a) || text.startsWith('#include', a)) codey++;
  }
  return lines >= 4 && codey * 10 >= lines * 3 ? 'code' : 'prose';
}

/**
 * Context features of every segment (strings; the classifier hashes them). `text` is normalised text,
 * `segs` its segments, `toks` the tokens of each segment. Besides position and shared vocabulary, each
 * segment gets language-independent features of its shape: question mark, the closed-class words it
 * carries (second person, first person, request verb, question word, "please", the assistant, its
 * answer), the class pattern of its first words and of its last word (verb-final languages), the kind of
 * document it sits in, whether it is a line of its own and whether its script differs from the document.
 */
export function contextFeatures(text: string, segs: readonly Segment[], toks: readonly string[][]): string[][] {
  if (toks.length < segs.length) throw new RangeError(`contextFeatures: ${segs.length} segments but tokens of ${toks.length}`);
  // The shared body reads tokens as spans of one string: lay the given tokens end to end.
  let total = 0;
  for (const ts of toks) total += ts.length;
  const st: SegmentTokens = { text: toks.map((ts) => ts.join('')).join(''), start: new Int32Array(total), end: new Int32Array(total), first: new Int32Array(toks.length + 1) };
  let i = 0, off = 0;
  for (let k = 0; k < toks.length; k++) {
    st.first[k] = i;
    for (const t of toks[k]!) { st.start[i] = off; off += t.length; st.end[i] = off; i++; }
  }
  st.first[toks.length] = i;
  return segmentFeatures(text, segs, st, null) as string[][];
}

/**
 * contextFeatures with the segments' tokens taken from the tokens of the whole text (tokenSpans(text)):
 * the same features as contextFeatures(text, segs, segs.map((s) => tokenize(text.slice(s.start, s.end))))
 * without tokenising the text again or making a string per token. Lists are shared (frozen) between
 * segments of the same shape: a document has thousands of segments but a few hundred distinct lists.
 */
export function contextFeaturesOf(text: string, segs: readonly Segment[], toks: TokenSpans): ReadonlyArray<readonly string[]> {
  // A segment's tokens are the text's tokens clipped to it; a text token cut by a segment boundary
  // gives one piece per side, so there are at most toks.count + segs.length of them.
  const cap = toks.count + segs.length;
  const st: SegmentTokens = { text, start: new Int32Array(cap), end: new Int32Array(cap), first: new Int32Array(segs.length + 1) };
  let i = 0;
  for (let k = 0; k < segs.length; k++) {
    const sg = segs[k]!;
    st.first[k] = i;
    i += clipTokens(text, toks, firstTokenAfter(toks, sg.start), sg.start, sg.end, st.start, st.end, null, i);
  }
  st.first[segs.length] = i;
  if (FEATURE_LISTS.size > MAX_FEATURE_LISTS) FEATURE_LISTS.clear();
  return segmentFeatures(text, segs, st, FEATURE_LISTS);
}

/** Tokens of every segment: segment k's are tokens first[k] .. first[k + 1] - 1; token i is text[start[i], end[i]). */
interface SegmentTokens {
  readonly text: string;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly first: Int32Array;
}

/**
 * Distinct tokens as small integers: `id[i]` of token i, `rep[id]` = a token with that text. One map
 * lookup per token, then the per-token work of segmentFeatures is array reads. (A JS Map, not a
 * hand-made hash table: its string hash is seeded per process and its buckets are chained, so tokens
 * crafted to collide cannot make interning quadratic.)
 */
function internTokens(st: SegmentTokens, total: number): { id: Int32Array; rep: Int32Array; distinct: number } {
  const ids = new Map<string, number>();
  const id = new Int32Array(total), rep = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    const t = st.text.slice(st.start[i]!, st.end[i]!);
    let d = ids.get(t);
    if (d === undefined) { d = ids.size; ids.set(t, d); rep[d] = i; }
    id[i] = d;
  }
  return { id, rep, distinct: ids.size };
}

/** Rendered feature lists by shape key (see segmentFeatures); bounded, cleared when full. */
const FEATURE_LISTS = new Map<string, readonly string[]>();
const MAX_FEATURE_LISTS = 20000;

/** What the features of one segment are made of (everything renderFeatures reads). */
interface Shape {
  doc: string; pos: string; nov: string; len: string; shape: string;
  q: boolean; p2: boolean; ai: boolean; ans: boolean; p1: boolean; imp: boolean; pl: boolean;
  fi: boolean; fq: boolean; limp: boolean; scrDiff: boolean; line: boolean; proseInTable: boolean;
}

/** The feature strings of one segment, in their fixed order (the classifier hashes them in it). */
function renderFeatures(x: Shape): string[] {
  const { doc, pos, nov, len, shape, q, p2, p1 } = x;
  const f: string[] = ['u:seg', doc, 'pos:' + pos, 'nov:' + nov, 'len:' + len];
  const flags: Array<[boolean, string]> = [[q, 'q'], [p2, '2p'], [x.ai, 'ai'], [x.ans, 'ans'], [p1, '1p'], [x.imp, 'imp'], [x.pl, 'pl']];
  for (const [on, name] of flags) if (on) f.push(name, `${name}&pos:${pos}`, `${name}&nov:${nov}`, `${name}&${doc}`);
  if (p2 && x.ans) f.push('2p&ans');
  if (q && p2) f.push('q&2p', `q&2p&nov:${nov}`);
  if (!p1 && !p2) f.push('no-person', `no-person&q:${q}`, `no-person&nov:${nov}`);
  if (p1) f.push(`1p&q:${q}`);
  if (x.fi) f.push('f:imp', `f:imp&nov:${nov}`, `f:imp&pos:${pos}`, `f:imp&${doc}`, `f:imp&1p:${p1}`, `f:imp&len:${len}`);
  if (x.fq) f.push('f:qw', `f:qw&q:${q}`, `f:qw&nov:${nov}`, `f:qw&${doc}`, `f:qw&1p:${p1}&2p:${p2}`);
  if (x.limp) f.push('l:imp', `l:imp&nov:${nov}`, `l:imp&${doc}`);
  f.push('sh:' + shape, `sh:${shape}&q:${q}`);
  if (q) f.push(`q&${doc}`, `q&nov:${nov}&${doc}`, `q&len:${len}`);
  // Script differs from the document's.
  if (x.scrDiff) f.push('scr:diff', `scr:diff&${doc}`);
  // A line of its own (the segment is the whole line).
  if (x.line) f.push('line', `line&${doc}`, `line&pos:${pos}`);
  // A line of prose in a table document.
  if (x.proseInTable) f.push('prose-in-table', `prose-in-table&len:${len}`);
  return f;
}

const POSITIONS = ['only', 'first', 'last', 'mid'] as const;
const NOVELTY = ['short', 'na', '0', '1', '2', '3'] as const;
const LENGTHS = ['xs', 's', 'm', 'l'] as const;
const DOC_KINDS = ['doc:table', 'doc:code', 'doc:prose'] as const;
const SHAPE_LETTERS = 'IQYMPARw';

/**
 * Memo key of a shape: three UTF-16 units (the flags; document kind, position, novelty and length;
 * the shape letters in base 9), so a lookup hashes a 3-character string, not a long concatenation.
 */
function shapeKey(x: Shape, docI: number, posI: number, novI: number, lenI: number): string {
  const flags = [x.q, x.p2, x.ai, x.ans, x.p1, x.imp, x.pl, x.fi, x.fq, x.limp, x.scrDiff, x.line, x.proseInTable];
  let bits = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]) bits |= 1 << i;
  let shape = 0; // <= 4 letters: < 9^4
  for (let i = 0; i < x.shape.length; i++) shape = shape * 9 + SHAPE_LETTERS.indexOf(x.shape.charAt(i)) + 1;
  return String.fromCharCode(bits, ((docI * 4 + posI) * 6 + novI) * 4 + lenI, shape);
}

/** Unicode White_Space and line terminators: what String.prototype.trim removes. */
function isTrimSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
/** text.slice(a, b).trim() === '' without the slice. */
function isBlank(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!isTrimSpace(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Shared body of contextFeatures and contextFeaturesOf: the shape of every segment, rendered to its
 * feature list (through `memo` when given: the lists are then frozen and shared). One pass over the
 * text and the tokens: linear.
 */
function segmentFeatures(text: string, segs: readonly Segment[], st: SegmentTokens, memo: Map<string, readonly string[]> | null): Array<readonly string[]> {
  const total = st.first[st.first.length - 1]!;
  const { id, rep, distinct } = internTokens(st, total);
  // Per distinct token: content word (see isContent), count in the document, closed class (lazy, -1).
  const content = new Uint8Array(distinct), docCount = new Int32Array(distinct), cls = new Int32Array(distinct).fill(-1);
  for (let d = 0; d < distinct; d++) content[d] = isContent(st.text, st.start[rep[d]!]!, st.end[rep[d]!]!) ? 1 : 0;
  let docContent = 0;
  for (let i = 0; i < total; i++) if (content[id[i]!] === 1) { docCount[id[i]!]!++; docContent++; }
  const classOf = (i: number): number => {
    const d = id[i]!;
    let c = cls[d]!;
    if (c < 0) {
      const a = st.start[i]!, b = st.end[i]!;
      // Only a word of the lexicon (or one with a glued Arabic prefix) has a class: no string for longer tokens.
      cls[d] = c = b - a <= MAX_CLASS_WORD + 1 ? tokenClass(st.text.slice(a, b)) : 0;
    }
    return c;
  };
  // Table-like document: most lines carry '|'.
  let lines = 0, pipeLines = 0;
  {
    let ls = 0, pipe = false;
    for (let i = 0; i <= text.length; i++) {
      const c = i === text.length ? 0x0a : text.charCodeAt(i);
      if (c === 0x7c) pipe = true;
      else if (c === 0x0a) {
        if (i > ls) { lines++; if (pipe) pipeLines++; }
        ls = i + 1; pipe = false;
      }
    }
  }
  const tableDoc = lines >= 3 && pipeLines * 2 > lines;
  const doc = 'doc:' + docKind(text, tableDoc);
  const docI = DOC_KINDS.indexOf(doc as (typeof DOC_KINDS)[number]);
  if (docI < 0) throw new Error(`segments.ts: unknown document kind ${doc}`); // (the memo key needs its index)
  const N = segs.length;
  // Script letters per segment and in the whole document.
  const scr = new Int32Array((N + 1) * SCRIPTS);
  for (let k = 0; k < N; k++) {
    const s = segs[k]!;
    for (let i = s.start; i < s.end; i++) { const sc = SCRIPT_OF[text.charCodeAt(i)]!; if (sc > 0) { scr[(k + 1) * SCRIPTS + sc]!++; scr[sc]!++; } }
  }
  const docScript = dominant(scr, 0);
  // Start and end of the line holding each segment, and whether that line has a '|': one forward pass
  // (segments are in text order), so a long line of many segments is scanned once, not once per segment.
  const lineStart = new Int32Array(N), lineEnd = new Int32Array(N), linePipe = new Uint8Array(N);
  {
    let ls = 0, k = 0, pipe = false;
    for (let i = 0; i <= text.length && k < N; i++) {
      if (i < text.length && text.charCodeAt(i) !== 0x0a) { if (text.charCodeAt(i) === 0x7c) pipe = true; continue; }
      while (k < N && segs[k]!.start <= i) { lineStart[k] = ls; lineEnd[k] = i; linePipe[k] = pipe ? 1 : 0; k++; }
      ls = i + 1; pipe = false;
    }
  }
  const out: Array<readonly string[]> = [];
  // Counts of content words in the current segment: segCount[d] is valid when seen[d] === k + 1.
  const segCount = new Int32Array(distinct), seen = new Int32Array(distinct), touched = new Int32Array(distinct);
  for (let k = 0; k < N; k++) {
    const seg = segs[k]!;
    const t0 = st.first[k]!, nt = st.first[k + 1]! - t0;
    const posI = N === 1 ? 0 : k === 0 ? 1 : k === N - 1 ? 2 : 3;
    const pos = POSITIONS[posI]!;
    // Vocabulary shared with the rest of the document.
    let nContent = 0, nTouched = 0;
    for (let i = t0; i < t0 + nt; i++) {
      const d = id[i]!;
      if (content[d] === 0) continue;
      if (seen[d] !== k + 1) { seen[d] = k + 1; segCount[d] = 0; touched[nTouched++] = d; }
      segCount[d]!++;
      nContent++;
    }
    let novI: number; // short, na, 0, 1, 2, 3
    if (docContent - nContent < 15) novI = 0;
    else if (nContent < 2) novI = 1;
    else {
      let shared = 0;
      for (let j = 0; j < nTouched; j++) { const d = touched[j]!; if (docCount[d]! > segCount[d]!) shared += segCount[d]!; }
      const r = shared / nContent;
      novI = r === 0 ? 2 : r < 0.34 ? 3 : r < 0.67 ? 4 : 5;
    }
    const nov = NOVELTY[novI]!;
    let le = seg.end - 1;
    while (le > seg.start && (text.charCodeAt(le) === 0x22 || text.charCodeAt(le) === 0x27 || text.charCodeAt(le) === 0x29 || text.charCodeAt(le) === 0x2a)) le--;
    const last = text.charCodeAt(le);
    const q = last === 0x3f || last === 0xff1f || last === 0x061f || last === 0x37e;
    // Closed-class words: anywhere, first word, last word.
    let any = 0;
    for (let i = t0; i < t0 + nt; i++) any |= classOf(i);
    let first = nt > 0 ? classOf(t0) : 0;
    // A leading "please"/"also"-like word does not hide the request behind it.
    const second = nt > 1 ? classOf(t0 + 1) : 0;
    let lastC = nt > 1 ? classOf(t0 + nt - 1) : 0;
    let shape = '';
    for (let i = 0; i < 3 && i < nt; i++) shape += shapeLetter(classOf(t0 + i));
    let hasWide = false;
    for (let i = seg.start; i < seg.end; i++) { const c = text.charCodeAt(i); if (c >= 0x0e00 && (c < 0x2000 || c >= 0x3040)) { hasWide = true; break; } }
    if (hasWide) {
      const sub = subClasses(text, seg.start, seg.end);
      any |= sub.any; first |= sub.first; lastC |= sub.last;
      shape = shapeLetter(sub.first) + shape;
    }
    const p2 = (any & C_P2) !== 0, p1 = (any & C_P1) !== 0;
    const lenI = nt <= 3 ? 0 : nt <= 8 ? 1 : nt <= 20 ? 2 : 3;
    const len = LENGTHS[lenI]!;
    const ss = dominant(scr, (k + 1) * SCRIPTS);
    const ls = lineStart[k]!, lend = lineEnd[k]!;
    let segPipe = false;
    if (tableDoc) for (let i = seg.start; i < seg.end; i++) if (text.charCodeAt(i) === 0x7c) { segPipe = true; break; }
    const x: Shape = {
      doc, pos, nov, len, shape, q, p2, p1,
      ai: (any & C_AI) !== 0, ans: (any & C_ANS) !== 0, imp: (any & C_IMP) !== 0, pl: (any & C_PLEASE) !== 0,
      fi: (first & C_IMP) !== 0 || ((first & C_PLEASE) !== 0 && (second & C_IMP) !== 0),
      fq: (first & C_QW) !== 0,
      limp: (lastC & C_IMP) !== 0,
      scrDiff: ss.total >= 3 && docScript.share >= 0.6 && ss.script !== docScript.script,
      line: seg.start - ls <= 8 && lend - seg.end <= 8 && isBlank(text, ls, seg.start) && isBlank(text, seg.end, lend),
      // A line of prose in a table document (cells are split at '|', so test the whole line).
      proseInTable: tableDoc && !segPipe && lend - ls <= 2000 && linePipe[k] === 0 && nt >= 4,
    };
    if (memo === null) { out.push(renderFeatures(x)); continue; }
    const key = shapeKey(x, docI, posI, novI, lenI);
    let f = memo.get(key);
    if (f === undefined) memo.set(key, f = Object.freeze(renderFeatures(x)));
    out.push(f);
  }
  return out;
}

// Very common function words (English first, then the Latin-script languages rot13 is seen with). A
// sentence of prose hits many of them; its rot13 hits almost none, and the reverse for rot13'd prose.
const COMMON = new Set(('the and to of a in is you your that it for on with as are be this all or not by from at an have was ' +
  'will can do if what which their about any how into more other only new now then these them they we our my me should must ' +
  'please write tell give make include answer response reply explain previous instructions ignore instead following use add ' +
  'using without every word words each text one before after also but so there here its his her has had would could just like ' +
  'who where when why le la les de des et un une est pour der die das und ist nicht el los las y en que por con para').split(' '));

// The same words after rot13: "the rot13 of token t is common" is "t is in ROT13_COMMON".
const ROT13_COMMON = new Set([...COMMON].map(rot13));
const MAX_COMMON = Math.max(...[...COMMON].map((w) => w.length));

/**
 * Words of text[a, b) (tokens as tokenize finds them in that substring, made only of a-z) and how
 * many of them are common words, as they are and after rot13. rot13 maps a-z onto a-z and leaves
 * everything else, so the rotated text has the same tokens and words: one pass serves both views
 * and the rotated text is built only for a segment that qualifies.
 */
function commonRates(text: string, a: number, b: number): { words: number; common: number; commonRot: number } {
  let words = 0, common = 0, commonRot = 0;
  let i = a;
  while (i < b) {
    if (!isTokenChar(text.charCodeAt(i))) { i++; continue; } // ('@' tokens are not a-z words)
    const start = i;
    while (i < b && isTokenChar(text.charCodeAt(i))) i++;
    const end = Math.min(i, start + MAX_TOKEN);
    let ascii = true;
    for (let k = start; k < end; k++) { const c = text.charCodeAt(k); if (c < 0x61 || c > 0x7a) { ascii = false; break; } }
    if (!ascii) continue;
    words++;
    if (end - start <= MAX_COMMON) {
      const t = text.slice(start, end);
      if (COMMON.has(t)) common++;
      if (ROT13_COMMON.has(t)) commonRot++;
    }
  }
  return { words, common, commonRot };
}

/**
 * rot13 has no syntax to find: decode the segments of normalised `text` whose rot13 reads as common
 * words much more than the segment itself does, and return them joined (null when there are none).
 */
export function rot13Candidates(text: string): string | null {
  const segs = rot13Segments(text);
  return segs.length === 0 ? null : segs.map((sg) => rot13(text.slice(sg.start, sg.end))).join('\n');
}

/**
 * `text` with the segments rot13Candidates decodes rotated in place (so they are read with their
 * document around them), or null when there are none.
 */
export function rot13Reveal(text: string): string | null {
  const segs = rot13Segments(text);
  if (segs.length === 0) return null;
  let out = '', at = 0;
  for (const sg of segs) { out += text.slice(at, sg.start) + rot13(text.slice(sg.start, sg.end)); at = sg.end; }
  return out + text.slice(at);
}

/** Segments of `text` that read as common words much more after rot13 than as written. */
function rot13Segments(text: string): Segment[] {
  const out: Segment[] = [];
  for (const sg of segment(text)) {
    const c = commonRates(text, sg.start, sg.end);
    if (c.words < 3) continue;
    const rate = c.common / c.words, decodedRate = c.commonRot / c.words;
    if (decodedRate >= 0.2 && decodedRate > rate + 0.15) out.push(sg);
  }
  return out;
}
